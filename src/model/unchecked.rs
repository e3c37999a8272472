//! Missing evidence (未能核查): a unit's website or catalogue that could not be checked. A score
//! carries the list so that rankings and the unit's page can say why a unit lost points and
//! never show "nothing found" as "nothing wrong".

use serde::{Deserialize, Serialize};

use super::Finding;

/// Longest raw error kept: it comes from the network layer and may quote a hostile server.
const MAX_ERROR_CHARS: usize = 300;

/// One scope of a unit that could not be checked, as the finding that recorded it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Unchecked {
    /// The missing-evidence check, e.g. `site.unchecked`.
    pub check: String,
    /// Its Chinese title, e.g. 网站未能核查.
    pub label: String,
    /// Why, in Chinese (the finding's `detail.reason`).
    pub reason: String,
    /// The raw error behind it (connection refused, timed out…), cut to a readable length.
    pub error: Option<String>,
    /// What could not be checked (the website or the catalogue address).
    pub url: Option<String>,
}

impl Unchecked {
    /// From the finding that recorded the missing evidence; `label` is the check's title.
    pub fn from_finding(finding: &Finding, label: &str) -> Self {
        let text = |key: &str| {
            finding.detail.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty())
        };
        let error = text("error").map(str::to_string).or_else(|| {
            finding.detail.get("status").and_then(serde_json::Value::as_u64).map(|s| format!("HTTP {s}"))
        });
        Self {
            check: finding.check.clone(),
            label: label.to_string(),
            reason: text("reason").map_or_else(|| label.to_string(), str::to_string),
            error: error.map(|e| shortened(&e)),
            url: finding.url.clone(),
        }
    }

    /// One line for a ranking cell or a laggard reason: `网站未能核查：原因（错误）`.
    pub fn summary_zh(&self) -> String {
        match &self.error {
            Some(error) => format!("{}：{}（{error}）", self.label, self.reason),
            None => format!("{}：{}", self.label, self.reason),
        }
    }
}

fn shortened(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FindingStatus, Source, synthetic_credit_code};

    fn finding(detail: serde_json::Value) -> Finding {
        Finding {
            id: None,
            unit: synthetic_credit_code("450100", 1).expect("synthetic code"),
            check: "site.unchecked".into(),
            source: Source::Crawler,
            observed_at: chrono::DateTime::from_timestamp(1_795_000_000, 0).expect("time"),
            url: Some("http://a.example.cn/".into()),
            detail,
            status: FindingStatus::Open,
            rectify_by: None,
        }
    }

    #[test]
    fn reason_and_error_come_from_the_detail() {
        let u = Unchecked::from_finding(
            &finding(serde_json::json!({ "reason": "网站首页无法访问", "error": "连接被拒绝" })),
            "网站未能核查",
        );
        assert_eq!(u.summary_zh(), "网站未能核查：网站首页无法访问（连接被拒绝）");
        assert_eq!(u.url.as_deref(), Some("http://a.example.cn/"));
    }

    #[test]
    fn without_a_reason_the_label_stands_and_long_errors_are_cut() {
        let long = "x".repeat(MAX_ERROR_CHARS + 5);
        let u = Unchecked::from_finding(&finding(serde_json::json!({ "error": long })), "网站未能核查");
        assert_eq!(u.reason, "网站未能核查");
        assert_eq!(u.error.as_deref().map(|e| e.chars().count()), Some(MAX_ERROR_CHARS + 1));
        let status = Unchecked::from_finding(&finding(serde_json::json!({ "status": 503 })), "网站未能核查");
        assert_eq!(status.error.as_deref(), Some("HTTP 503"));
    }
}
