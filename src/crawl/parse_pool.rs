//! Where HTML is parsed: on tokio's blocking threads, at most one parse per core at a time
//! (issue #11). Parsing a large page takes CPU for a while; on the async runtime it would stall
//! every other task, the dashboard included, and unbounded on the blocking pool it would let a
//! crawl of many hostile pages take every core.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

static PERMITS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get)));

/// Runs `parse` on a blocking thread once a parse slot is free. The error is a message for a
/// finding or a log line: the parse panicked, or the runtime is shutting down.
pub async fn parse<T, F>(parse: F) -> Result<T, String>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let _permit = PERMITS.acquire().await.map_err(|e| format!("解析页面失败：{e}"))?;
    tokio::task::spawn_blocking(parse).await.map_err(|e| format!("解析页面失败：{e}"))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn returns_the_result_and_survives_a_panicking_parse() {
        let length = super::parse(|| "<div>正文</div>".len()).await;
        assert_eq!(length, Ok(17));
        let failed = super::parse(|| -> usize { panic!("hostile page") }).await;
        assert!(failed.is_err_and(|e| e.starts_with("解析页面失败")));
        // The slot of the failed parse was given back.
        assert_eq!(super::parse(|| 1).await, Ok(1));
    }
}
