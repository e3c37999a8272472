//! Server-rendered pages: minijinja with auto-escaping for every `.html` template, templates
//! compiled into the binary (the deployment network may be closed; nothing is fetched from
//! outside the server), and one base layout that every page extends.

use minijinja::{Environment, UndefinedBehavior, Value, context};
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use serde::Serialize;

use super::error::WebError;
use crate::model::{Account, FindingStatus, Role, UnitKind, status_label_zh};

/// Who a page is rendered for: what the layout shows of the signed-in user. The session's
/// `CurrentUser` converts into it, so templates need not know how sessions work.
#[derive(Debug, Clone, Copy)]
pub struct PageUser<'a> {
    /// The signed-in account: its name, role and unit decide the navigation.
    pub account: &'a Account,
    /// The CSRF token the page's forms carry.
    pub csrf: &'a str,
}

/// Templates shared by every page; each page module lists its own in `TEMPLATES`.
const SHARED: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("error.html", include_str!("templates/error.html")),
    ("macros.html", include_str!("templates/macros.html")),
];

/// One link in the top navigation.
#[derive(Debug, Serialize)]
struct NavItem {
    href: &'static str,
    label: &'static str,
}

/// The navigation each role sees: only places it may go.
fn navigation(role: Role) -> Vec<NavItem> {
    let item = |href, label| NavItem { href, label };
    match role {
        Role::Office => vec![
            item("/rankings", "排名"),
            item("/office/units", "单位"),
            item("/office/groups", "监察小组"),
            item("/office/accounts", "账号"),
            item("/office/jobs", "检查与评分"),
            item("/office/cycles", "评估周期"),
            item("/office/audit", "操作日志"),
            item("/office/reports/annual", "年度报告"),
            item("/notices", "通报"),
            item("/office/schedule", "定时任务"),
        ],
        Role::Leader => vec![item("/rankings", "排名"), item("/notices", "通报")],
        Role::Inspector => vec![item("/inspector", "本组单位")],
        Role::Unit => {
            vec![item("/my", "本单位"), item("/my/self-assessment", "自评"), item("/portal/notices", "通报")]
        }
    }
}

/// Every template, compiled once at start-up, with the filters pages share.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Compiles every template; a syntax error is found at start-up, not on a user's click.
    pub fn new(page_templates: &[&[(&'static str, &'static str)]]) -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        // Labels come from the domain model, so a page never spells a status differently.
        env.add_filter("status_label", |status: String| {
            status.parse::<FindingStatus>().map_or(status.clone(), |s| status_label_zh(s).to_string())
        });
        env.add_filter("kind_label", |kind: String| {
            kind.parse::<UnitKind>().map_or(kind.clone(), |k| k.label_zh().to_string())
        });
        for (name, source) in SHARED.iter().chain(page_templates.iter().flat_map(|set| set.iter())) {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
    }

    /// Renders a template with exactly the context given (fragments, tests).
    pub fn render(&self, name: &str, ctx: Value) -> Result<String, WebError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(ctx))
            .map_err(|e| WebError::Internal(format!("模板 {name}：{e:#}")))
    }

    /// Renders a page for a signed-in user: the layout gets the user, their navigation, the
    /// CSRF token for forms and the flash message, on top of the page's own context.
    pub fn page<'u>(
        &self,
        name: &str,
        user: impl Into<PageUser<'u>>,
        flash: Option<FlashMessage<'_>>,
        ctx: Value,
    ) -> Result<RawHtml<String>, WebError> {
        let user = user.into();
        let account = user.account;
        let base = context! {
            user => context! {
                username => &account.username,
                display_name => account.display_name.as_deref().unwrap_or(&account.username),
                role => account.role.as_str(),
                role_label => account.role.label_zh(),
                unit => account.unit.as_ref().map(ToString::to_string),
                group => &account.inspector_group,
            },
            nav => navigation(account.role),
            csrf => user.csrf,
            flash => flash.map(|f| context! { kind => f.kind().to_string(), message => f.message().to_string() }),
        };
        self.render(name, context! { ..ctx, ..base }).map(RawHtml)
    }

    /// The error page (no user: it must render even when the session is the problem).
    pub fn error_page(&self, status: u16, message: &str) -> Result<String, WebError> {
        self.render("error.html", context! { status => status, message => message })
    }
}
