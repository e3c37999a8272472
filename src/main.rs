//! The `gongkai` binary: parse the command line, run it, turn errors into exit codes.

use std::process::ExitCode;

use clap::Parser;
use gongkai::cli::{self, BadInput, Cli};
use gongkai::jobs::JobError;

/// The embedded database recurses deeply; its SDK recommends about 10 MiB of stack.
const THREAD_STACK: usize = 10 * 1024 * 1024;

/// Warnings and errors, except surrealkv's warning that its tree was dropped outside the
/// runtime: it comes after `Store::close` has already shut the engine down cleanly (the lock
/// is released only then), so it is noise at every exit. `GONGKAI_LOG` overrides this.
const DEFAULT_LOG_FILTER: &str = "warn,surrealkv::lsm=error";

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GONGKAI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("错误：无法启动运行时：{error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => match bad_input(&error) {
            Some(message) => {
                if let Some(message) = message {
                    eprintln!("错误：{message}");
                }
                ExitCode::from(2)
            }
            // `gongkai units list | head`: the reader left; that is not a failure.
            None if is_broken_pipe(&error) => ExitCode::SUCCESS,
            None => {
                eprintln!("错误：{error:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Bad input (exit code 2) and its message, unless it was already printed.
fn bad_input(error: &anyhow::Error) -> Option<Option<String>> {
    if let Some(bad) = error.downcast_ref::<BadInput>() {
        return Some((!bad.silent).then(|| bad.to_string()));
    }
    match error.downcast_ref::<JobError>() {
        Some(JobError::BadInput(message)) => Some(Some(message.clone())),
        _ => None,
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    fn broken(io: &std::io::Error) -> bool {
        io.kind() == std::io::ErrorKind::BrokenPipe
            // The CSV writer wraps the pipe error in its own error, inside an io::Error.
            || io.get_ref().and_then(|inner| inner.downcast_ref::<csv::Error>()).is_some_and(
                |csv| matches!(csv.kind(), csv::ErrorKind::Io(inner) if inner.kind() == std::io::ErrorKind::BrokenPipe),
            )
    }
    error.chain().any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(broken))
}
