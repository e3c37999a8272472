//! `gongkai backup FILE` and `gongkai restore FILE`, and the security settings of `serve`.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::store::{Store, StoreConfig};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// 备份文件（SurrealQL 文本）Backup file (SurrealQL text)
    pub file: PathBuf,
}

/// How `serve` learns who its clients are and whether TLS ends in front of it.
#[derive(Debug, Args)]
pub struct SecurityArgs {
    /// 可信反向代理的地址（可重复），只信任它们转发的 X-Forwarded-For；缺省不信任任何转发头
    /// Reverse proxies whose X-Forwarded-For is believed (repeatable); by default none is
    #[arg(long = "trusted-proxy", value_name = "ADDR")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// 用户访问的地址，如 https://gk.example.gov.cn/；为 https 时 Cookie 加 Secure 并发送 HSTS
    /// The address people use; https:// marks cookies Secure and sends HSTS
    #[arg(long, value_name = "URL", value_parser = public_url)]
    pub public_url: Option<String>,
}

/// A `--public-url`: an absolute http(s) address.
fn public_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("“{raw}”不是有效的网址（{e}）"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("“{raw}”应为 http:// 或 https:// 开头的完整地址"));
    }
    Ok(url.to_string())
}

pub(super) async fn backup(config: &StoreConfig, file: &Path) -> anyhow::Result<()> {
    let store = Store::connect(config).await?;
    let result = store.backup(file).await;
    store.close().await;
    result?;
    eprintln!("已备份到 {}", file.display());
    Ok(())
}

pub(super) async fn restore(config: &StoreConfig, file: &Path) -> anyhow::Result<()> {
    let store = Store::connect(config).await?;
    let result = store.restore(file).await;
    store.close().await;
    result?;
    eprintln!("已从 {} 恢复", file.display());
    Ok(())
}
