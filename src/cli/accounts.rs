//! `gongkai accounts add|list`: bootstrap and review accounts from the command line (the
//! office manages them in the web UI too, once it exists).

use std::io::{self, BufRead, Write};

use serde::Serialize;

use super::output::{Format, Listing, print_listing};
use super::{BadInput, actor};
use crate::auth::hash_password;
use crate::model::{Account, OrgCode, Role};
use crate::store::{AccountWriteError, AuditEntry, Store};

pub(super) struct AddArgs {
    pub role: Role,
    pub unit: Option<String>,
    pub group: Option<String>,
    pub username: String,
    pub display_name: Option<String>,
    pub password_stdin: bool,
}

/// Reads the password from the first line of standard input: never from the command line,
/// where it would stay in the shell history and the process list.
fn read_password(password_stdin: bool) -> Result<String, BadInput> {
    if !password_stdin {
        return Err(BadInput::new("请用 --password-stdin 从标准输入提供密码（不在命令行中出现）"));
    }
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line).map_err(|e| BadInput::new(format!("无法读取密码：{e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub(super) async fn add(store: &Store, args: AddArgs) -> anyhow::Result<()> {
    let unit = args
        .unit
        .as_deref()
        .map(|raw| OrgCode::parse(raw).map_err(|e| BadInput::new(format!("单位代码“{raw}”无效：{e}"))))
        .transpose()?;
    if let Some(code) = &unit
        && store.unit(code).await?.is_none()
    {
        return Err(BadInput::new(format!("单位 {code} 未登记，请先用 gongkai units import 导入")).into());
    }
    let account = Account {
        username: args.username.trim().to_string(),
        role: args.role,
        unit,
        inspector_group: args.group.map(|g| g.trim().to_string()).filter(|g| !g.is_empty()),
        display_name: args.display_name,
        disabled: false,
    };
    account.validate().map_err(|e| BadInput::new(e.to_string()))?;
    let password = read_password(args.password_stdin)?;
    account.check_password(&password).map_err(|e| BadInput::new(e.to_string()))?;
    let hash = hash_password(&password)?;
    let audit = AuditEntry::new(actor(), "accounts.add").target(account.username.clone()).detail(
        serde_json::json!({ "role": account.role.as_str(), "unit": account.unit.as_ref().map(ToString::to_string),
                            "group": account.inspector_group }),
    );
    match store.create_account(&account, &hash, audit).await {
        Ok(()) => {}
        Err(AccountWriteError::Taken(name)) => {
            return Err(BadInput::new(format!("用户名“{name}”已存在")).into());
        }
        Err(AccountWriteError::Store(e)) => return Err(e.into()),
    }
    writeln!(io::stdout().lock(), "已创建账号 {}（{}）", account.username, account.role.label_zh())?;
    Ok(())
}

#[derive(Serialize)]
struct AccountRow<'a> {
    #[serde(flatten)]
    account: &'a Account,
}

impl Listing for AccountRow<'_> {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("username", "用户名"),
        ("role", "角色"),
        ("unit", "所属单位"),
        ("inspector_group", "监察小组"),
        ("display_name", "姓名"),
        ("disabled", "停用"),
    ];

    fn cells(&self) -> Vec<String> {
        let a = self.account;
        vec![
            a.username.clone(),
            a.role.label_zh().to_string(),
            a.unit.as_ref().map(ToString::to_string).unwrap_or_default(),
            a.inspector_group.clone().unwrap_or_default(),
            a.display_name.clone().unwrap_or_default(),
            if a.disabled { "是".into() } else { String::new() },
        ]
    }
}

pub(super) async fn list(store: &Store, format: Format) -> anyhow::Result<()> {
    let accounts = store.accounts().await?;
    let rows: Vec<AccountRow> = accounts.iter().map(|account| AccountRow { account }).collect();
    print_listing(&rows, format, &mut io::stdout().lock())?;
    Ok(())
}
