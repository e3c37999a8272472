//! Store errors, worded for the person at the terminal.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("数据库地址“{0}”无效：应为 surrealkv://路径、mem:// 或 ws://主机:端口")]
    BadUrl(String),
    #[error(
        "数据库目录 {path} 正被另一个进程使用（例如正在运行的 gongkai serve）；请先停止它，或用 --db 指向数据库服务器"
    )]
    Locked { path: String },
    #[error("无法连接数据库 {url}：{message}")]
    Connect { url: String, message: String },
    #[error("数据库登录失败（{url}）：{message}；请检查 --db-user / --db-pass")]
    SignIn { url: String, message: String },
    #[error(
        "连接数据库服务器 {url} 须提供用户名和密码：请用 --db-user / --db-pass（或环境变量 GONGKAI_DB_USER / GONGKAI_DB_PASS）指定；不再默认使用 root/root"
    )]
    MissingCredentials { url: String },
    #[error("备份或恢复失败：{0}")]
    Backup(String),
    #[error("应用数据库结构失败：{0}")]
    Schema(String),
    #[error("数据库操作失败（{context}）：{source}")]
    Query {
        context: &'static str,
        #[source]
        source: Box<surrealdb::Error>,
    },
    #[error("库中数据损坏（{context}）：{message}")]
    Corrupt { context: &'static str, message: String },
}

impl StoreError {
    pub(crate) fn query(context: &'static str) -> impl FnOnce(surrealdb::Error) -> StoreError {
        move |source| StoreError::Query { context, source: Box::new(source) }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
