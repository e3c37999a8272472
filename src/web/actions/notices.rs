//! The office edits a notice while it is a draft: its title, and the units it names (one taken
//! out, or one added with the reason and the findings the cycle cites for it). The sections
//! stay as drafted; the store refuses any edit of a notice that is no longer a draft.
//!
//! Each edit answers the message the office sees, or a [`NotifyError`]: a refusal to show
//! beside the notice, or a store failure.

use crate::model::OrgCode;
use crate::notify::{self, NotifyError};
use crate::store::{Notice, NoticeUnit, Store};
use crate::web::session::CurrentUser;

/// Saves `notice` with `title` and `units` (its sections as they are), as `user`'s edit.
async fn save_draft(
    store: &Store,
    user: &CurrentUser,
    notice: &Notice,
    title: &str,
    units: &[NoticeUnit],
) -> Result<(), NotifyError> {
    Ok(store.update_notice_draft(&notice.id, title, &notice.sections, units, &user.account.username).await?)
}

/// Gives the draft a new title; a blank one is refused.
pub async fn retitle(
    store: &Store,
    user: &CurrentUser,
    notice: &Notice,
    title: &str,
) -> Result<String, NotifyError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(NotifyError::BadInput("标题不能为空".into()));
    }
    save_draft(store, user, notice, title, &notice.units).await?;
    Ok("标题已修改".to_string())
}

/// Takes the unit with code `unit` out of the draft.
pub async fn remove_unit(
    store: &Store,
    user: &CurrentUser,
    notice: &Notice,
    unit: &str,
) -> Result<String, NotifyError> {
    let unit = unit.trim();
    let units: Vec<NoticeUnit> = notice.units.iter().filter(|u| u.unit != unit).cloned().collect();
    save_draft(store, user, notice, &notice.title, &units).await?;
    Ok(format!("已将 {unit} 移出通报"))
}

/// Adds the unit `code` to the draft with `note` as the reason (required), naming the findings
/// the notice's cycle cites for it; a unit not registered, or already named, is refused.
pub async fn add_unit(
    store: &Store,
    user: &CurrentUser,
    notice: &Notice,
    code: &OrgCode,
    note: &str,
) -> Result<String, NotifyError> {
    let note = note.trim();
    if note.is_empty() {
        return Err(NotifyError::BadInput("补充列入的单位须填写理由".into()));
    }
    let Some(unit) = store.unit(code).await? else {
        return Err(NotifyError::BadInput(format!("未找到代码为 {code} 的单位")));
    };
    if notice.units.iter().any(|u| u.unit == code.as_str()) {
        return Err(NotifyError::BadInput(format!("{} 已在通报中", unit.name)));
    }
    let findings = notify::named_findings(store, &notice.cycle, code.as_str()).await?;
    let mut units = notice.units.clone();
    units.push(NoticeUnit {
        unit: code.to_string(),
        name: unit.name.clone(),
        reasons: vec![note.to_string()],
        findings,
        deadline: notice.deadline,
        added_note: Some(note.to_string()),
        acknowledged_at: None,
        acknowledged_by: None,
    });
    save_draft(store, user, notice, &notice.title, &units).await?;
    Ok(format!("已将 {} 列入通报", unit.name))
}
