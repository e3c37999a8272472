//! Store errors, worded for the person at the terminal.

use thiserror::Error;

/// Why a store operation failed. Each message says what the operator can do about it.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The `--db` address has no supported scheme; holds the address as given.
    #[error("数据库地址“{0}”无效：应为 surrealkv://路径、mem:// 或 ws://主机:端口")]
    BadUrl(String),
    /// An embedded database directory is held by another process (one writer at a time).
    #[error(
        "数据库目录 {path} 正被另一个进程使用（例如正在运行的 gongkai serve）；请先停止它，或用 --db 指向数据库服务器"
    )]
    Locked {
        /// The database directory.
        path: String,
    },
    /// The database could not be opened or reached.
    #[error("无法连接数据库 {url}：{message}")]
    Connect {
        /// The `--db` address.
        url: String,
        /// SurrealDB's message.
        message: String,
    },
    /// A database server refused the credentials.
    #[error("数据库登录失败（{url}）：{message}；请检查 --db-user / --db-pass")]
    SignIn {
        /// The server's address.
        url: String,
        /// SurrealDB's message.
        message: String,
    },
    /// A `ws://` server was given without user and password (no silent `root/root`).
    #[error(
        "连接数据库服务器 {url} 须提供用户名和密码：请用 --db-user / --db-pass（或环境变量 GONGKAI_DB_USER / GONGKAI_DB_PASS）指定；不再默认使用 root/root"
    )]
    MissingCredentials {
        /// The server's address.
        url: String,
    },
    /// A backup or restore failed: what was being done, the file and why.
    #[error("备份或恢复失败：{0}")]
    Backup(String),
    /// The schema (`schema.surql`) could not be applied; SurrealDB's message.
    #[error("应用数据库结构失败：{0}")]
    Schema(String),
    /// A query failed.
    #[error("数据库操作失败（{context}）：{source}")]
    Query {
        /// What the store was doing, in Chinese (e.g. 记录邮件投递).
        context: &'static str,
        /// SurrealDB's error (boxed: it is large).
        #[source]
        source: Box<surrealdb::Error>,
    },
    /// A stored record does not read back as its type (a bad code, unknown enum value…).
    #[error("库中数据损坏（{context}）：{message}")]
    Corrupt {
        /// Which record type, e.g. `account` or `score.explanation`.
        context: &'static str,
        /// What did not parse.
        message: String,
    },
}

impl StoreError {
    pub(crate) fn query(context: &'static str) -> impl FnOnce(surrealdb::Error) -> StoreError {
        move |source| StoreError::Query { context, source: Box::new(source) }
    }
}

/// The result of every store operation.
pub type StoreResult<T> = Result<T, StoreError>;
