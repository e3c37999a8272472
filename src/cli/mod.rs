//! The command line (DESIGN.md §6). Commands are stable: tests and operators script them.
//!
//! Exit codes: 0 success; 1 a failure of the system (database, disk); 2 bad input or a
//! command that is not available yet.

mod assess;
mod output;
mod units;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use output::Format;

use crate::model::UnitKind;
use crate::store::{Store, StoreConfig};

#[derive(Debug, Parser)]
#[command(
    name = "gongkai",
    version,
    about = "政府信息公开检查与评分平台 — government information disclosure inspection and scoring",
    long_about = "gongkai 登记须公开的单位，检查其网站和政府信息公开目录，记录特邀监察员的检查，\
按评分规则算出精确分数，排名并标出需要通报的单位。\n\n\
gongkai registers the units that must disclose, checks their websites and disclosure \
catalogues, records special inspectors' visits, scores exactly by rule sets kept as data, \
ranks units and flags laggards for a formal notification."
)]
pub struct Cli {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// 数据库地址 Database URL: surrealkv://PATH (embedded, default), mem:// or ws://HOST:PORT
    #[arg(long = "db", env = "GONGKAI_DB", default_value = "surrealkv://data/gongkai", global = true)]
    pub url: String,
    /// 数据库服务器用户名 User for a ws:// server
    #[arg(long = "db-user", env = "GONGKAI_DB_USER", global = true)]
    pub user: Option<String>,
    /// 数据库服务器密码 Password for a ws:// server
    #[arg(long = "db-pass", env = "GONGKAI_DB_PASS", global = true, hide_env_values = true)]
    pub pass: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 单位名录：导入、列出、查看 — the units registry
    #[command(subcommand)]
    Units(UnitsCommand),
    /// 抓取并检查各单位网站与公开目录 — crawl and check units' websites and catalogues
    Crawl {
        /// 只检查这些单位（可重复）Only these units (repeatable)
        #[arg(long = "unit")]
        units: Vec<String>,
        /// 以该日期为“今天”(YYYY-MM-DD) Treat this date as today
        #[arg(long)]
        as_of: Option<String>,
        /// 允许访问内网和本机地址 Allow loopback and private addresses
        #[arg(long)]
        allow_private: bool,
    },
    /// 仅探测各单位首页是否可访问 — probe home-page availability only
    Probe,
    /// 列出检查发现的问题 — list findings
    Findings {
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        check: Option<String>,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 评分规则 — rule sets
    #[command(subcommand)]
    Rules(RulesCommand),
    /// 按规则集评分并保存评估周期 — score every unit under a rule set and save the cycle
    Assess {
        /// 规则集文件 Rule set file (scoring-rules/*.toml)
        #[arg(long)]
        rules: PathBuf,
        /// 周期编号，缺省为“规则集-日期” Cycle id (default: RULESET-DATE); re-running replaces it
        #[arg(long)]
        cycle: Option<String>,
        /// 以该日期为评估日 (YYYY-MM-DD)，缺省为今天 Evidence as of this day
        #[arg(long)]
        as_of: Option<String>,
        /// 后进单位标准文件 Laggard criteria (default: scoring-rules/laggards.toml as shipped)
        #[arg(long)]
        laggards: Option<PathBuf>,
        /// 与已保存的周期比较：谁的得分、名次会变化及原因 What-if against a saved cycle
        #[arg(long)]
        compare_with: Option<String>,
        /// 只试算，不保存 Compute and show, save nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 排名与后进单位 — ranking and laggards
    Ranking {
        /// 周期编号，缺省为最新 Cycle id (default: the newest)
        #[arg(long)]
        cycle: Option<String>,
        /// 只看该类型 Only this kind
        #[arg(long)]
        kind: Option<UnitKind>,
        /// 只看后进单位 Only laggards
        #[arg(long)]
        laggards: bool,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 启动网页看板与接口 — serve the web dashboard and API
    Serve,
    /// 演示城市：一条命令体验全部功能 — everything on a self-contained demo city
    Demo,
}

#[derive(Debug, Subcommand)]
pub enum UnitsCommand {
    /// 从 CSV 导入单位（全部成功或全部不导入）Import units from CSV, all or nothing
    Import {
        /// CSV 文件（UTF-8 或 GBK），表头 code,name,kind,parent_code,website,catalogue_url,email
        file: PathBuf,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 列出单位 List units
    List {
        /// 只列出该类型 Only this kind
        #[arg(long)]
        kind: Option<UnitKind>,
        /// 只列出该上级单位的下级 Only subordinates of this unit
        #[arg(long)]
        parent: Option<String>,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 查看一个单位及其下级单位 Show one unit and its subordinates
    Show {
        code: String,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// 校验规则集文件并运行其中的示例 Validate a rule set and run its examples
    Check {
        file: PathBuf,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

impl clap::ValueEnum for UnitKind {
    fn value_variants<'a>() -> &'a [Self] {
        &UnitKind::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()).help(self.label_zh()))
    }
}

/// Input the user can fix: exits with code 2. `silent` when the details were printed already.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BadInput {
    pub message: String,
    pub silent: bool,
}

impl BadInput {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), silent: false }
    }

    pub fn silent() -> Self {
        Self { message: String::new(), silent: true }
    }
}

/// Who the audit log names for work done from the command line.
pub fn actor() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_default();
    if user.is_empty() { "cli".into() } else { format!("cli:{user}") }
}

/// Runs one command. Commands that do not touch the database do not open it, so `--help`
/// and not-yet-available commands work even while a server holds the embedded store.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config =
        StoreConfig { url: cli.db.url.clone(), username: cli.db.user.clone(), password: cli.db.pass.clone() };
    match cli.command {
        Command::Units(command) => {
            let store = Store::connect(&config).await?;
            let result = match command {
                UnitsCommand::Import { file, format } => {
                    units::import(&store, &file, Format::resolve(format)).await
                }
                UnitsCommand::List { kind, parent, format } => {
                    units::list(&store, kind, parent.as_deref(), Format::resolve(format)).await
                }
                UnitsCommand::Show { code, format } => {
                    units::show(&store, &code, Format::resolve(format)).await
                }
            };
            store.close().await;
            result
        }
        Command::Crawl { .. } | Command::Probe | Command::Findings { .. } => {
            not_yet("crawl / probe / findings", 3)
        }
        Command::Rules(RulesCommand::Check { file, format }) => assess::check(&file, Format::resolve(format)),
        Command::Assess { rules, cycle, as_of, laggards, compare_with, dry_run, format } => {
            let store = Store::connect(&config).await?;
            let args = assess::AssessArgs {
                rules: &rules,
                cycle,
                as_of: as_of.as_deref(),
                laggards: laggards.as_deref(),
                compare_with,
                dry_run,
                format: Format::resolve(format),
            };
            let result = assess::assess(&store, args).await;
            store.close().await;
            result
        }
        Command::Ranking { cycle, kind, laggards, format } => {
            let store = Store::connect(&config).await?;
            let result = assess::ranking(&store, cycle, kind, laggards, Format::resolve(format)).await;
            store.close().await;
            result
        }
        Command::Serve | Command::Demo => not_yet("serve / demo", 6),
    }
}

fn not_yet(what: &str, issue: u32) -> anyhow::Result<()> {
    Err(BadInput::new(format!("gongkai {what} 尚未实现（见 issue #{issue}）— not implemented yet")).into())
}
