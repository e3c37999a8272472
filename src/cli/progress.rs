//! The progress bar long commands show on a terminal while a job runs: its stage, units done of
//! the stage's total, pages fetched and problems found, read from the job's [`Progress`].

use std::io::{self, IsTerminal};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::jobs::Progress;

/// Shows `progress` on standard error until the returned ticker is aborted; hidden when standard
/// error is not a terminal or `hidden` (JSON output) is asked for.
pub(super) fn show(progress: Progress, hidden: bool) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = if !hidden && io::stderr().is_terminal() {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let shown = bar.clone();
    let ticker = tokio::spawn(async move {
        loop {
            let now = progress.snapshot();
            // A catalogue crawl counts the entries it read, a site crawl the problems it found.
            let found = if now.stage == "抓取公开目录" { "条目" } else { "问题" };
            shown.set_prefix(now.stage);
            shown.set_length(now.total as u64);
            shown.set_position(now.done as u64);
            shown.set_message(if now.pages > 0 {
                format!("页面 {} · {found} {}", now.pages, now.found)
            } else {
                String::new()
            });
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    (bar, ticker)
}
