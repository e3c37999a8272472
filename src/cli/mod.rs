//! The command line (DESIGN.md §6). Commands are stable: tests and operators script them.
//!
//! Exit codes: 0 success; 1 a failure of the system (database, disk); 2 bad input or a
//! command that is not available yet.

mod accounts;
mod assess;
mod backup;
mod catalogue;
mod crawl;
mod demo;
mod findings;
mod notices;
mod output;
mod progress;
mod report;
mod schedule;
mod self_assess;
mod units;
mod visits;
mod worker;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use output::Format;

use crate::model::UnitKind;
use crate::store::{Store, StoreConfig};

/// The whole command line: the database to use and the command to run on it.
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
    /// Which database every command opens.
    #[command(flatten)]
    pub db: DbArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach the database: `--db`, `--db-user`, `--db-pass` (global, also from the environment).
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

/// The top-level commands; each variant's doc comment is its `--help` line.
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
        /// 网站检查配置文件（默认 crawlers/site.toml 内置版本）Crawl profile file
        #[arg(long)]
        profile: Option<PathBuf>,
        /// 公开目录检查配置文件（默认 crawlers/catalogue.toml 内置版本）Catalogue profile file
        #[arg(long)]
        catalogue_profile: Option<PathBuf>,
        /// 只检查网站或只检查公开目录（缺省两者都查）Only one side (default: both)
        #[arg(long, value_enum)]
        only: Option<catalogue::CrawlSide>,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 仅探测各单位首页是否可访问 — probe home-page availability only
    Probe {
        /// 只探测这些单位（可重复）Only these units (repeatable)
        #[arg(long = "unit")]
        units: Vec<String>,
        /// 以该日期为“今天”(YYYY-MM-DD) Treat this date as today
        #[arg(long)]
        as_of: Option<String>,
        /// 允许访问内网和本机地址 Allow loopback and private addresses
        #[arg(long)]
        allow_private: bool,
        /// 网站检查配置文件 Crawl profile file
        #[arg(long)]
        profile: Option<PathBuf>,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 列出检查发现的问题 — list findings
    Findings {
        /// 只列出该单位的问题 Only this unit's findings
        #[arg(long)]
        unit: Option<String>,
        /// 只列出该检查项的问题 Only findings of this check id
        #[arg(long)]
        check: Option<String>,
        /// 也列出已被新一轮抓取取代的问题 Also findings that a newer crawl replaced
        #[arg(long)]
        all: bool,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 特邀监察员检查记录 — special inspectors' visits
    #[command(subcommand)]
    Visits(VisitsCommand),
    /// 单位自评 — units' self-assessment
    #[command(subcommand, name = "self-assess")]
    SelfAssess(SelfAssessCommand),
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
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
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
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 政府信息公开目录：列出与检索条目 — browse and search disclosure-catalogue entries
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// 账号：创建、列出 — accounts
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// 启动网页看板与接口 — serve the web dashboard and API
    Serve(ServeArgs),
    /// 把整个数据库备份到一个文件 — back the whole database up to one file
    Backup(backup::BackupArgs),
    /// 从备份文件恢复到一个空数据库 — restore a backup into an empty database
    Restore(backup::BackupArgs),
    /// 演示城市：一条命令体验全部功能 — everything on a self-contained demo city
    Demo(DemoArgs),
    /// 定时任务及其运行记录 — scheduled jobs (crawlers/schedule.toml) and their runs
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    /// 通报：起草、审批、发布、查看 — notifications (通报)
    #[command(subcommand)]
    Notices(notices::NoticesCommand),
    /// 报告：本市政府信息公开工作年度报告草稿 — reports the office drafts (the annual report)
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// 检查进程：领取排队的网站检查并执行（多台机器共用一个数据库服务器）— a crawler worker
    /// taking queued crawls by lease, for several machines sharing one database server
    Worker(worker::WorkerArgs),
    /// 检查进程与排队检查的进度 — the workers and the progress of queued crawls
    Workers {
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

/// Where the dashboard listens.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 监听地址 Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    pub address: std::net::IpAddr,
    /// 端口 Port
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// 允许从看板发起的检查访问内网和本机地址 Let crawls started from the dashboard reach
    /// loopback and private addresses
    #[arg(long)]
    pub allow_private: bool,
    /// Who the dashboard trusts for client addresses, and its public address.
    #[command(flatten)]
    pub security: backup::SecurityArgs,
    /// 定时任务表（缺省为看板中保存的或内置的 crawlers/schedule.toml）Schedule file
    #[arg(long)]
    pub schedule: Option<PathBuf>,
}

impl ServeArgs {
    fn web_config(&self) -> crate::web::WebConfig {
        crate::web::WebConfig {
            address: self.address,
            port: self.port,
            allow_private: self.allow_private,
            trusted_proxies: self.security.trusted_proxies.clone(),
            public_url: self.security.public_url.clone(),
            ..crate::web::WebConfig::default()
        }
    }
}

/// Where the demo city lives and is served.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// 演示数据库目录（每次运行重建；--db 对演示无效）Demo database directory, rebuilt on every run
    #[arg(long, default_value = "data/demo")]
    pub dir: PathBuf,
    /// 监听地址 Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    pub address: std::net::IpAddr,
    /// 端口 Port
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
}

/// `gongkai units …`: the units registry.
#[derive(Debug, Subcommand)]
pub enum UnitsCommand {
    /// 从 CSV 导入单位（全部成功或全部不导入）Import units from CSV, all or nothing
    Import {
        /// CSV 文件（UTF-8 或 GBK），表头 code,name,kind,parent_code,website,catalogue_url,email
        file: PathBuf,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
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
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 查看一个单位及其下级单位 Show one unit and its subordinates
    Show {
        /// 单位代码（统一社会信用代码）Unit code (unified social credit code)
        code: String,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

/// `gongkai visits …`: special inspectors' visit sheets.
#[derive(Debug, Subcommand)]
pub enum VisitsCommand {
    /// 从 CSV 导入检查记录及发现的问题（全部成功或全部不导入）Import visits and their findings, all or nothing
    Import {
        /// CSV 文件（UTF-8 或 GBK），表头 unit,inspector,group,date,method,check,note,rectify_by
        file: PathBuf,
        /// 按该规则集校验 field.* 检查项 Check field.* ids against this rule set
        #[arg(long)]
        rules: Option<PathBuf>,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

/// `gongkai self-assess …`: units' self-assessment claims.
#[derive(Debug, Subcommand)]
pub enum SelfAssessCommand {
    /// 从 CSV 导入单位自评（全部成功或全部不导入）Import self-assessment claims, all or nothing
    Import {
        /// CSV 文件（UTF-8 或 GBK），表头 unit,item,claimed,note[,submitted_at]
        file: PathBuf,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

/// `gongkai catalogue …`: the crawled disclosure-catalogue entries.
#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// 列出一个单位的公开目录条目 List one unit's catalogue entries
    List {
        /// 单位代码 Unit code
        #[arg(long)]
        unit: String,
        /// 只列出该类目 Only this class (e.g. 政策法规)
        #[arg(long)]
        class: Option<String>,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 按名称检索所有单位的目录条目 Search entry titles across all units
    Search {
        /// 检索词（多个词须同时出现）Words that must all appear in the title
        query: String,
        /// 只检索该单位 Only this unit
        #[arg(long)]
        unit: Option<String>,
        /// 最多返回条数 At most this many entries
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

/// `gongkai accounts …`: sign-in accounts for the dashboard.
#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// 创建账号，密码从标准输入读取 Create an account; the password is read from stdin
    Add {
        /// office 公开办、leader 领导小组、inspector 特邀监察员、unit 单位联系人
        #[arg(long)]
        role: crate::model::Role,
        /// 单位联系人所属单位 The unit of a unit account
        #[arg(long)]
        unit: Option<String>,
        /// 特邀监察员所在小组 The group of an inspector
        #[arg(long)]
        group: Option<String>,
        /// 登录名 Sign-in name
        #[arg(long)]
        username: String,
        /// 姓名 Display name
        #[arg(long)]
        name: Option<String>,
        /// 从标准输入第一行读取密码 Read the password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
    },
    /// 列出账号（不含密码）List accounts (never their passwords)
    List {
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

/// `gongkai rules …`: rule sets (scoring-rules/*.toml).
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// 校验规则集文件并运行其中的示例 Validate a rule set and run its examples
    Check {
        /// 规则集文件（TOML）Rule set file (TOML)
        file: PathBuf,
        /// 输出格式（缺省：终端上为表格，管道中为 JSON）Output format (default: a table on a terminal, JSON when piped)
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
    /// What to tell the user, in Chinese; empty when `silent`.
    pub message: String,
    /// The details were already printed (e.g. a list of rejected rows), so `main` prints nothing more.
    pub silent: bool,
}

impl BadInput {
    /// Bad input with a message to print.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), silent: false }
    }

    /// Bad input whose details were printed already; only the exit code remains.
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
        Command::Crawl { units, as_of, allow_private, profile, catalogue_profile, only, format } => {
            let store = Store::connect(&config).await?;
            let args =
                crawl::CrawlArgs { units, as_of, allow_private, profile, format: Format::resolve(format) };
            let result = async {
                let mut summaries = Vec::new();
                if only != Some(catalogue::CrawlSide::Catalogue) {
                    summaries.extend(crawl::crawl(&store, args.clone()).await?);
                }
                if only != Some(catalogue::CrawlSide::Site) {
                    summaries.extend(
                        catalogue::crawl(&store, &args, catalogue_profile.as_deref(), only.is_none()).await?,
                    );
                }
                // JSON: one document — the side's summary with --only, else an array of both.
                if args.format == Format::Json {
                    let mut out = std::io::stdout().lock();
                    match (only, summaries.len()) {
                        (Some(_), 1) => output::print_json(&summaries[0], &mut out)?,
                        _ => output::print_json(&summaries, &mut out)?,
                    }
                }
                anyhow::Ok(())
            }
            .await;
            store.close().await;
            result
        }
        Command::Probe { units, as_of, allow_private, profile, format } => {
            let store = Store::connect(&config).await?;
            let args =
                crawl::CrawlArgs { units, as_of, allow_private, profile, format: Format::resolve(format) };
            let result = crawl::probe_all(&store, args).await;
            store.close().await;
            result
        }
        Command::Findings { unit, check, all, format } => {
            let store = Store::connect(&config).await?;
            let result =
                findings::list(&store, unit.as_deref(), check.as_deref(), all, Format::resolve(format)).await;
            store.close().await;
            result
        }
        Command::Visits(VisitsCommand::Import { file, rules, format }) => {
            let store = Store::connect(&config).await?;
            let result = visits::import(&store, &file, rules.as_deref(), Format::resolve(format)).await;
            store.close().await;
            result
        }
        Command::SelfAssess(SelfAssessCommand::Import { file, format }) => {
            let store = Store::connect(&config).await?;
            let result = self_assess::import(&store, &file, Format::resolve(format)).await;
            store.close().await;
            result
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
        Command::Catalogue(command) => {
            let store = Store::connect(&config).await?;
            let result = match command {
                CatalogueCommand::List { unit, class, format } => {
                    catalogue::list(&store, &unit, class.as_deref(), Format::resolve(format)).await
                }
                CatalogueCommand::Search { query, unit, limit, format } => {
                    catalogue::search(&store, &query, unit.as_deref(), limit, Format::resolve(format)).await
                }
            };
            store.close().await;
            result
        }
        Command::Accounts(command) => {
            let store = Store::connect(&config).await?;
            let result = match command {
                AccountsCommand::Add { role, unit, group, username, name, password_stdin } => {
                    let args =
                        accounts::AddArgs { role, unit, group, username, display_name: name, password_stdin };
                    accounts::add(&store, args).await
                }
                AccountsCommand::List { format } => accounts::list(&store, Format::resolve(format)).await,
            };
            store.close().await;
            result
        }
        Command::Serve(args) => {
            let store = Store::connect(&config).await?;
            let scheduler =
                schedule::start_scheduler(&store, args.schedule.as_deref(), args.allow_private).await?;
            eprintln!("网页看板 http://{}:{}/ （Ctrl-C 停止）", args.address, args.port);
            let result = crate::web::serve(store.clone(), args.web_config()).await;
            scheduler.stop().await;
            store.close().await;
            Ok(result?)
        }
        Command::Worker(args) => {
            let store = Store::connect(&config).await?;
            let result = worker::work(&store, args).await;
            store.close().await;
            result
        }
        Command::Workers { format } => {
            let store = Store::connect(&config).await?;
            let result = worker::list(&store, Format::resolve(format)).await;
            store.close().await;
            result
        }
        Command::Backup(args) => backup::backup(&config, &args.file).await,
        Command::Restore(args) => backup::restore(&config, &args.file).await,
        Command::Demo(args) => {
            // The demo's websites live on loopback, so crawls started from its dashboard must
            // be allowed to reach them.
            let web = crate::web::WebConfig {
                address: args.address,
                port: args.port,
                allow_private: true,
                ..crate::web::WebConfig::default()
            };
            demo::run(&args.dir, web).await
        }
        Command::Schedule(command) => {
            let store = Store::connect(&config).await?;
            let result = schedule::dispatch(&store, command).await;
            store.close().await;
            result
        }
        Command::Notices(command) => {
            let store = Store::connect(&config).await?;
            let result = notices::dispatch(&store, command).await;
            store.close().await;
            result
        }
        Command::Report(command) => {
            let store = Store::connect(&config).await?;
            let result = report::dispatch(&store, command).await;
            store.close().await;
            result
        }
    }
}

impl clap::ValueEnum for crate::model::Role {
    fn value_variants<'a>() -> &'a [Self] {
        &crate::model::Role::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()).help(self.label_zh()))
    }
}
