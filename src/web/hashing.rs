//! A gate in front of password hashing. Every argon2 check takes about 19 MiB and a core's
//! worth of time on purpose; without a limit, a flood of bogus logins runs hundreds of them at
//! once (tokio's blocking pool allows 512 threads) and exhausts memory and CPU.
//!
//! At most `workers` checks run at once (one per core by default) and at most `queue` more wait
//! for a turn; anything beyond that is refused at once with 503 and `Retry-After`, which costs
//! the server nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use super::error::WebError;

/// One password job for the hashing threads.
type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads that run password hashes, and the count of jobs admitted.
///
/// Dedicated threads rather than tokio's blocking pool: the allocator keeps each argon2 run's
/// 19 MiB in the arena of the thread that ran it, so a pool that grows to hundreds of threads
/// grows memory with it; a fixed set of threads reuses the same few arenas.
#[derive(Debug)]
pub struct PasswordGate {
    jobs: Mutex<mpsc::Sender<Job>>,
    /// Jobs running or waiting.
    admitted: Arc<AtomicUsize>,
    /// The most that may be running or waiting.
    capacity: usize,
}

/// One admitted job's place in the gate, given back when it is dropped (finished, failed or
/// cancelled). Take one before any other work for a login, so a flood is refused cheaply.
#[derive(Debug)]
pub struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Default for PasswordGate {
    /// One hashing thread per core, and as many jobs again waiting.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::new(cores, cores * 2)
    }
}

impl PasswordGate {
    /// Starts `workers` hashing threads (at least one) and admits at most `queue` more jobs
    /// waiting beyond those running.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..workers {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new().name(format!("password-{n}")).spawn(move || {
                loop {
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the gate was dropped
                    }
                }
            });
            if let Err(error) = spawned {
                tracing::error!("无法启动密码校验线程：{error}");
            }
        }
        Self { jobs: Mutex::new(sender), admitted: Arc::new(AtomicUsize::new(0)), capacity: workers + queue }
    }

    /// A place for one job, or [`WebError::Busy`] at once when too many are running and waiting.
    pub fn admit(&self) -> Result<Admission, WebError> {
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(WebError::Busy);
        }
        Ok(Admission(self.admitted.clone()))
    }

    /// Runs `work` (a password hash or check) on a hashing thread under `admission`. The
    /// admission travels with the job, so a client that hangs up does not free its place
    /// while its hash is still being computed.
    pub async fn run_admitted<T: Send + 'static>(
        &self,
        admission: Admission,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WebError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let value = work();
            // The place is given back before the caller sees the result, so a caller that
            // finished never still counts as in flight (and never blocks the next login).
            drop(admission);
            let _ = done.send(value);
        });
        let sent = self.jobs.lock().map_err(|_| WebError::Internal("密码校验线程不可用".into()))?.send(job);
        sent.map_err(|_| WebError::Internal("密码校验线程已停止".into()))?;
        result.await.map_err(|_| WebError::Internal("密码校验中断".into()))
    }

    /// [`PasswordGate::admit`] and [`PasswordGate::run_admitted`] in one.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WebError> {
        let admission = self.admit()?;
        self.run_admitted(admission, work).await
    }

    /// Jobs running or waiting now.
    pub fn in_flight(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_beyond_the_queue_and_runs_at_most_the_workers_at_once() {
        let gate = Arc::new(PasswordGate::new(2, 3));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(std::sync::Mutex::new(wait));
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let (gate, running, peak, wait) = (gate.clone(), running.clone(), peak.clone(), wait.clone());
            tasks.push(tokio::spawn(async move {
                gate.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let _ = wait.lock().map(|w| w.recv());
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        // Wait until all five are admitted (two running, three queued).
        while gate.in_flight() < 5 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(gate.run(|| ()).await, Err(WebError::Busy)), "the sixth is refused at once");
        for _ in 0..5 {
            release.send(()).expect("release");
        }
        for task in tasks {
            task.await.expect("task").expect("admitted work ran");
        }
        assert!(peak.load(Ordering::SeqCst) <= 2, "peak {}", peak.load(Ordering::SeqCst));
        assert_eq!(gate.in_flight(), 0);
        assert!(gate.run(|| 7).await.is_ok_and(|v| v == 7), "slots are given back");
    }
}
