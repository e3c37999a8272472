//! What each role may see and do (DESIGN.md §2), in one place so that pages and the API ask
//! the same questions and get the same answers.
//!
//! - `office`: everything, and all management.
//! - `leader`: reads everything (rankings, any unit, findings); changes nothing.
//! - `inspector`: only the units assigned to their group — their pages and findings; records
//!   visits and follows up findings there. No city ranking.
//! - `unit`: only its own unit; answers its own findings and submits its self-assessment.

use super::error::WebError;
use super::session::CurrentUser;
use crate::model::{OrgCode, Role};
use crate::store::Store;

impl CurrentUser {
    /// The account's role, which decides what it may see and do.
    pub fn role(&self) -> Role {
        self.account.role
    }

    /// Refuses unless the account has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), WebError> {
        if roles.contains(&self.account.role) { Ok(()) } else { Err(WebError::Forbidden) }
    }

    /// City-wide reading: rankings, charts, any unit's page.
    pub fn require_reader(&self) -> Result<(), WebError> {
        self.require(&[Role::Office, Role::Leader])
    }

    /// Refuses unless the account is the disclosure office's (公开办): all management.
    pub fn require_office(&self) -> Result<(), WebError> {
        self.require(&[Role::Office])
    }

    /// Whether this account may read `unit`'s scores, explanation and findings.
    pub async fn may_view_unit(&self, store: &Store, unit: &OrgCode) -> Result<bool, WebError> {
        Ok(match self.account.role {
            Role::Office | Role::Leader => true,
            Role::Unit => self.account.unit.as_ref() == Some(unit),
            Role::Inspector => self.in_my_group(store, unit).await?,
        })
    }

    /// Refuses unless this account may read `unit`.
    pub async fn ensure_view_unit(&self, store: &Store, unit: &OrgCode) -> Result<(), WebError> {
        if self.may_view_unit(store, unit).await? { Ok(()) } else { Err(WebError::Forbidden) }
    }

    /// Recording a visit: inspectors, for their group's units only.
    pub async fn ensure_record_visit(&self, store: &Store, unit: &OrgCode) -> Result<(), WebError> {
        if self.account.role == Role::Inspector && self.in_my_group(store, unit).await? {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// Confirming or reopening a finding after the unit answered: the office, or an inspector
    /// of the unit's group.
    pub async fn ensure_review_finding(&self, store: &Store, unit: &OrgCode) -> Result<(), WebError> {
        match self.account.role {
            Role::Office => Ok(()),
            Role::Inspector if self.in_my_group(store, unit).await? => Ok(()),
            _ => Err(WebError::Forbidden),
        }
    }

    /// Answering a finding or submitting a self-assessment: the unit itself only.
    pub fn ensure_own_unit(&self, unit: &OrgCode) -> Result<(), WebError> {
        if self.account.role == Role::Unit && self.account.unit.as_ref() == Some(unit) {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// The unit a `unit` account belongs to.
    pub fn own_unit(&self) -> Result<&OrgCode, WebError> {
        match (&self.account.role, &self.account.unit) {
            (Role::Unit, Some(unit)) => Ok(unit),
            _ => Err(WebError::Forbidden),
        }
    }

    /// The group an inspector belongs to.
    pub fn own_group(&self) -> Result<&str, WebError> {
        match (&self.account.role, &self.account.inspector_group) {
            (Role::Inspector, Some(group)) => Ok(group),
            _ => Err(WebError::Forbidden),
        }
    }

    async fn in_my_group(&self, store: &Store, unit: &OrgCode) -> Result<bool, WebError> {
        let Some(mine) = self.account.inspector_group.as_deref() else {
            return Ok(false);
        };
        Ok(store.unit_group(unit).await?.as_deref() == Some(mine))
    }
}

/// A unit code from a URL: a malformed one is "not found", never an error page that echoes it.
pub fn unit_code(raw: &str) -> Result<OrgCode, WebError> {
    OrgCode::parse(raw).map_err(|_| WebError::NotFound)
}
