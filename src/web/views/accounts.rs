//! Accounts: every account (the office's list and `GET /accounts`), the office's page of them
//! with unit names and the groups to choose from, and a person's own API tokens.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::Account;
use crate::store::{Store, TokenInfo};
use crate::web::error::WebError;

/// Every account, by user name (never a password hash).
pub async fn accounts(store: &Store) -> Result<Vec<Account>, WebError> {
    Ok(store.accounts().await?)
}

/// One account as the office's page lists it.
#[derive(Debug, Serialize)]
pub struct AccountRow {
    /// The sign-in name, lower case; the account's key.
    pub username: String,
    /// The name shown instead of the user name, when one was given.
    pub display_name: Option<String>,
    /// The role's id (`office`, `leader`, `inspector`, `unit`), for forms.
    pub role: &'static str,
    /// The role in Chinese.
    pub role_label: &'static str,
    /// A unit account's unit (credit code).
    pub unit: Option<String>,
    /// That unit's name; none when it is no longer registered.
    pub unit_name: Option<String>,
    /// An inspector's group.
    pub group: Option<String>,
    /// Disabled accounts cannot sign in; their tokens stop working too.
    pub disabled: bool,
    /// The account of the person looking (who may not disable it).
    pub is_me: bool,
}

/// The office's accounts page: every account, and the groups an inspector may be put in.
#[derive(Debug)]
pub struct AccountsOverview {
    /// Every account, by user name.
    pub accounts: Vec<AccountRow>,
    /// Every inspector group's name.
    pub groups: Vec<String>,
}

/// Every account with its unit's name, as `me` sees the list. Three queries.
pub async fn accounts_overview(store: &Store, me: &str) -> Result<AccountsOverview, WebError> {
    let names: HashMap<String, String> =
        store.units().await?.into_iter().map(|u| (u.code.to_string(), u.name)).collect();
    let accounts = accounts(store)
        .await?
        .into_iter()
        .map(|account| {
            let unit = account.unit.as_ref().map(ToString::to_string);
            AccountRow {
                is_me: account.username == me,
                unit_name: unit.as_ref().and_then(|u| names.get(u).cloned()),
                unit,
                username: account.username,
                display_name: account.display_name,
                role: account.role.as_str(),
                role_label: account.role.label_zh(),
                group: account.inspector_group,
                disabled: account.disabled,
            }
        })
        .collect();
    let groups = store.groups().await?.into_iter().map(|g| g.name).collect();
    Ok(AccountsOverview { accounts, groups })
}

/// `username`'s own API tokens (never their secrets).
pub async fn own_tokens(store: &Store, username: &str) -> Result<Vec<TokenInfo>, WebError> {
    Ok(store.api_tokens(username).await?)
}
