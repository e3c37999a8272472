//! The OpenAPI 3.1 description of the API, written as data beside the routes it describes and
//! served at `GET /api/v1/openapi.json` without sign-in. Each operation names the roles that may
//! call it; writes list the two ways to be allowed (a token, or a session with `X-CSRF-Token`).
//!
//! Keeping it honest is a test's job (tests/it/web_api.rs): every mounted route is documented,
//! every documented operation is mounted, and answers match their documented schemas.

use rocket::serde::json::Json;
use rocket::{get, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![openapi]
}

#[get("/openapi.json")]
fn openapi() -> Json<Value> {
    Json(document())
}

/// Who may call an operation.
const EVERYONE: &str = "任何已登录账号（office、leader、inspector、unit）";
const READERS: &str = "office、leader";
const OFFICE: &str = "office";
const UNIT_VIEWERS: &str =
    "office、leader：任何单位；inspector：本组负责的单位；unit：仅本单位（其他单位一律 403）";

/// One documented operation.
struct Operation {
    method: &'static str,
    /// The path under `/api/v1`, with `{name}` parameters.
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    roles: &'static str,
    /// More to say than the summary, if anything.
    notes: &'static str,
    parameters: Vec<Value>,
    body: Option<Value>,
    /// The success status and its content (a JSON schema, or a whole `content` object).
    success: (u16, Content),
    security: Security,
}

enum Content {
    Json(Value),
    Csv,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Security {
    /// No sign-in (the document itself).
    Public,
    /// A token or a session cookie.
    Read,
    /// A token, or a session cookie with the `X-CSRF-Token` header.
    Write,
}

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn array(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn nullable(inner: Value) -> Value {
    json!({ "oneOf": [inner, { "type": "null" }] })
}

fn text() -> Value {
    json!({ "type": "string" })
}

fn opt_text() -> Value {
    json!({ "type": ["string", "null"] })
}

fn integer() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

fn boolean() -> Value {
    json!({ "type": "boolean" })
}

fn decimal() -> Value {
    schema("Decimal")
}

fn time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn day() -> Value {
    json!({ "type": "string", "format": "date" })
}

/// An object whose properties are all always present (`null` where there is nothing).
fn object(properties: &[(&str, Value)]) -> Value {
    let names: Vec<&str> = properties.iter().map(|(name, _)| *name).collect();
    let map: serde_json::Map<String, Value> =
        properties.iter().map(|(name, value)| (name.to_string(), value.clone())).collect();
    json!({ "type": "object", "properties": map, "required": names })
}

/// An object made of another one's properties plus its own (serde's `flatten`).
fn extends(base: &str, properties: &[(&str, Value)]) -> Value {
    json!({ "allOf": [schema(base), object(properties)] })
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": text() })
}

fn query_parameter(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn unit_code_parameter() -> Value {
    path_parameter("code", "单位代码：9 位组织机构代码或 18 位统一社会信用代码")
}

fn cycle_parameter() -> Value {
    query_parameter("cycle", "评估周期（默认：当前周期；不存在的周期返回 404）", text())
}

fn ranking_parameters() -> Vec<Value> {
    vec![
        cycle_parameter(),
        query_parameter("kind", "只看某类单位", schema("UnitKind")),
        query_parameter("laggards", "true：只看后进单位", boolean()),
    ]
}

fn operations() -> Vec<Operation> {
    use Security::{Public, Read, Write};
    let op = |method, path, id, tag, summary, roles, success: (u16, Content), security| Operation {
        method,
        path,
        id,
        tag,
        summary,
        roles,
        notes: "",
        parameters: Vec::new(),
        body: None,
        success,
        security,
    };
    let ok = |schema: Value| (200, Content::Json(schema));
    vec![
        Operation {
            notes: "本文档本身，无需登录。",
            ..op(
                "get",
                "/openapi.json",
                "openapi",
                "meta",
                "OpenAPI 文档",
                "无需登录",
                ok(json!({ "type": "object" })),
                Public,
            )
        },
        op("get", "/me", "me", "account", "当前账号及其权限", EVERYONE, ok(schema("Me")), Read),
        op(
            "get",
            "/cycles",
            "listCycles",
            "cycles",
            "全部评估周期（从旧到新）",
            EVERYONE,
            ok(array(schema("CycleInfo"))),
            Read,
        ),
        Operation {
            notes: "尚未开展评估时为 null。",
            ..op(
                "get",
                "/cycles/current",
                "currentCycle",
                "cycles",
                "当前评估周期（标记为当前的周期，否则最新的周期）",
                EVERYONE,
                ok(nullable(schema("CycleInfo"))),
                Read,
            )
        },
        Operation {
            body: Some(schema("SetCurrentCycleRequest")),
            ..op(
                "post",
                "/cycles/current",
                "setCurrentCycle",
                "cycles",
                "设置当前评估周期（排名页默认显示该周期）",
                OFFICE,
                ok(schema("CycleInfo")),
                Write,
            )
        },
        Operation {
            parameters: ranking_parameters(),
            ..op(
                "get",
                "/rankings",
                "rankings",
                "rankings",
                "排名（与排名页相同的数据）",
                READERS,
                ok(schema("RankingView")),
                Read,
            )
        },
        Operation {
            parameters: ranking_parameters(),
            notes: "与排名页“导出”按钮相同的 CSV 文件：UTF-8 带 BOM，中文表头。",
            ..op(
                "get",
                "/rankings.csv",
                "rankingsCsv",
                "rankings",
                "排名 CSV 导出",
                READERS,
                (200, Content::Csv),
                Read,
            )
        },
        op(
            "get",
            "/units",
            "listUnits",
            "units",
            "可见的单位及其当前周期得分",
            "office、leader：全部单位；inspector：本组负责的单位；unit：仅本单位",
            ok(schema("UnitList")),
            Read,
        ),
        Operation {
            parameters: vec![unit_code_parameter(), cycle_parameter()],
            notes: "得分、评分说明树、问题及证据、检查记录、自评、历史得分：与单位页面相同的数据。",
            ..op(
                "get",
                "/units/{code}",
                "unitDetail",
                "units",
                "单位详情",
                UNIT_VIEWERS,
                ok(schema("UnitDetail")),
                Read,
            )
        },
        Operation {
            parameters: vec![unit_code_parameter()],
            ..op(
                "get",
                "/units/{code}/findings",
                "unitFindings",
                "units",
                "单位当前的问题（未被新一轮检查取代的）",
                UNIT_VIEWERS,
                ok(array(schema("FindingView"))),
                Read,
            )
        },
        Operation {
            parameters: vec![unit_code_parameter(), cycle_parameter()],
            ..op(
                "get",
                "/units/{code}/history",
                "unitHistory",
                "units",
                "单位在该周期规则集下各周期的得分",
                UNIT_VIEWERS,
                ok(array(schema("ScorePoint"))),
                Read,
            )
        },
        Operation {
            parameters: vec![unit_code_parameter()],
            ..op(
                "get",
                "/units/{code}/visits",
                "unitVisits",
                "units",
                "特邀监察员对该单位的检查记录（从新到旧）",
                UNIT_VIEWERS,
                ok(array(schema("VisitRecord"))),
                Read,
            )
        },
        Operation {
            parameters: vec![unit_code_parameter()],
            body: Some(schema("VisitRequest")),
            notes: "同一监察员同一天以同一方式检查同一单位只能录入一次。",
            ..op(
                "post",
                "/units/{code}/visits",
                "recordVisit",
                "inspection",
                "录入检查记录及发现的问题",
                "inspector（仅本组负责的单位）",
                (201, Content::Json(schema("RecordedVisit"))),
                Write,
            )
        },
        Operation {
            parameters: vec![path_parameter("id", "问题编号，如 finding:abc123（也可省略 finding: 前缀）")],
            ..op(
                "get",
                "/findings/{id}",
                "finding",
                "findings",
                "问题详情、整改记录及当前账号可执行的操作",
                UNIT_VIEWERS,
                ok(schema("FindingDetail")),
                Read,
            )
        },
        Operation {
            parameters: vec![path_parameter("id", "问题编号，如 finding:abc123")],
            body: Some(schema("FindingActionRequest")),
            notes: "unit：rectify、dispute（须填写理由）；office 或本组 inspector：confirm_fix、reject_fix、withdraw、uphold、seen_fixed。当前状态不允许的操作返回 422。",
            ..op(
                "post",
                "/findings/{id}/actions",
                "actOnFinding",
                "findings",
                "整改流程操作",
                "unit（仅本单位的问题）；office；inspector（仅本组负责单位的问题）",
                ok(schema("FindingDetail")),
                Write,
            )
        },
        op(
            "get",
            "/self-assessment",
            "selfAssessmentSheet",
            "self-assessment",
            "本单位的自评表（当前周期规则集的评分项目）",
            "unit",
            ok(schema("SelfAssessmentSheet")),
            Read,
        ),
        Operation {
            body: Some(schema("SelfAssessmentRequest")),
            notes: "同一项目的新自评覆盖旧自评。",
            ..op(
                "post",
                "/self-assessment",
                "submitSelfAssessment",
                "self-assessment",
                "提交自评",
                "unit",
                ok(schema("SelfAssessmentOutcome")),
                Write,
            )
        },
        op(
            "get",
            "/groups/mine",
            "myGroup",
            "inspection",
            "本组负责的单位及待跟进问题",
            "inspector",
            ok(schema("MyGroup")),
            Read,
        ),
        op(
            "get",
            "/accounts",
            "listAccounts",
            "office",
            "全部账号（不含密码）",
            OFFICE,
            ok(array(schema("Account"))),
            Read,
        ),
        Operation {
            parameters: vec![query_parameter(
                "limit",
                "条数，1–1000，默认 100",
                json!({ "type": "integer", "minimum": 1, "maximum": 1000 }),
            )],
            ..op(
                "get",
                "/audit",
                "auditLog",
                "office",
                "审计日志（从新到旧）",
                OFFICE,
                ok(array(schema("AuditItem"))),
                Read,
            )
        },
        op(
            "get",
            "/jobs",
            "listJobs",
            "office",
            "后台任务（检查与评分）列表",
            OFFICE,
            ok(array(schema("JobView"))),
            Read,
        ),
        Operation {
            parameters: vec![path_parameter("id", "任务编号")],
            ..op(
                "get",
                "/jobs/{id}",
                "job",
                "office",
                "后台任务的状态与进度",
                OFFICE,
                ok(schema("JobView")),
                Read,
            )
        },
    ]
}

fn operation_value(operation: &Operation) -> Value {
    let mut errors = serde_json::Map::new();
    if operation.security != Security::Public {
        errors.insert("401".into(), json!({ "$ref": "#/components/responses/Unauthorized" }));
        errors.insert("403".into(), json!({ "$ref": "#/components/responses/Forbidden" }));
    }
    if !operation.parameters.is_empty() || operation.path.contains('{') {
        errors.insert("404".into(), json!({ "$ref": "#/components/responses/NotFound" }));
    }
    if operation.body.is_some() || !operation.parameters.is_empty() {
        errors.insert("422".into(), json!({ "$ref": "#/components/responses/Unprocessable" }));
    }
    let content = match &operation.success.1 {
        Content::Json(schema) => json!({ "application/json": { "schema": schema } }),
        Content::Csv => json!({ "text/csv": { "schema": { "type": "string" } } }),
    };
    let mut responses = serde_json::Map::new();
    responses.insert(operation.success.0.to_string(), json!({ "description": "成功", "content": content }));
    responses.extend(errors);
    let roles = format!("**允许的角色**：{}。", operation.roles);
    let csrf = if operation.security == Security::Write {
        "使用浏览器会话写入时须带 `X-CSRF-Token` 请求头（会话的 CSRF 令牌）；使用 API 令牌时不需要。"
    } else {
        ""
    };
    let description = [roles.as_str(), operation.notes, csrf]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n\n");
    let security = match operation.security {
        Security::Public => json!([]),
        Security::Read => json!([{ "bearerAuth": [] }, { "sessionCookie": [] }]),
        Security::Write => json!([{ "bearerAuth": [] }, { "sessionCookie": [], "csrfHeader": [] }]),
    };
    let mut value = json!({
        "operationId": operation.id,
        "tags": [operation.tag],
        "summary": operation.summary,
        "description": description,
        "x-roles": operation.roles,
        "security": security,
        "responses": responses,
    });
    if !operation.parameters.is_empty() {
        value["parameters"] = Value::Array(operation.parameters.clone());
    }
    if let Some(body) = &operation.body {
        value["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": body } } });
    }
    value
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for operation in operations() {
        let entry = paths.entry(operation.path.to_string()).or_insert_with(|| json!({}));
        entry[operation.method] = operation_value(&operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "gongkai 政府信息公开检查评分平台 API",
            "version": "1",
            "description": "页面上能看到的一切，以 JSON 提供，角色权限与页面相同。\n\n\
                认证：在“账号”页面创建 API 令牌，请求时带 `Authorization: Bearer gk_…`；\
                浏览器会话（登录后的 Cookie）也可读取，写入时须另带 `X-CSRF-Token` 请求头。\n\n\
                错误一律为 JSON：`{\"error\": \"中文说明\", \"status\": 状态码}`。\
                请求体无法解析或字段无效时返回 422，说明中指出字段（如 `findings[0].check`）。\n\n\
                数值（得分、分值）为精确小数，以字符串表示（如 \"87.50\"）。"
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearerAuth": [] }, { "sessionCookie": [] }],
        "tags": [
            { "name": "meta", "description": "本文档" },
            { "name": "account", "description": "当前账号" },
            { "name": "cycles", "description": "评估周期" },
            { "name": "rankings", "description": "排名（公开办、领导小组）" },
            { "name": "units", "description": "单位与单位详情" },
            { "name": "findings", "description": "问题与整改流程" },
            { "name": "inspection", "description": "特邀监察员" },
            { "name": "self-assessment", "description": "单位自评" },
            { "name": "office", "description": "公开办管理" }
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "gk_ + 64 位十六进制",
                    "description": "API 令牌：在“账号”页面创建，只显示一次。"
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": crate::web::session::SESSION_COOKIE,
                    "description": "登录后的浏览器会话。"
                },
                "csrfHeader": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "会话的 CSRF 令牌；浏览器会话写入时必需。"
                }
            },
            "responses": {
                "Unauthorized": error_response("未登录，或 API 令牌无效、已吊销"),
                "Forbidden": error_response("当前账号的角色无权执行此操作，或会话写入缺少 X-CSRF-Token"),
                "NotFound": error_response("单位、问题、周期或任务不存在"),
                "Unprocessable": error_response("参数或请求体无效；说明中指出字段")
            },
            "schemas": schemas()
        }
    })
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema("Error") } } })
}

fn schemas() -> Value {
    let role = json!({ "type": "string", "enum": ["office", "leader", "inspector", "unit"] });
    let status =
        json!({ "type": "string", "enum": ["open", "rectified", "disputed", "confirmed", "closed"] });
    let action = json!({
        "type": "string",
        "enum": ["rectify", "dispute", "confirm_fix", "reject_fix", "withdraw", "uphold", "seen_fixed"]
    });
    let mut schemas = serde_json::Map::new();
    let mut add = |name: &str, value: Value| {
        schemas.insert(name.to_string(), value);
    };
    add("Error", object(&[("error", text()), ("status", integer())]));
    add(
        "Decimal",
        json!({ "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "description": "精确小数" }),
    );
    add("Role", role);
    add(
        "UnitKind",
        json!({ "type": "string", "enum": ["department", "institution", "authorised", "district", "devzone"] }),
    );
    add("FindingStatus", status);
    add("RectificationAction", action);
    add("Source", json!({ "type": "string", "enum": ["crawler", "inspector", "self"] }));
    add(
        "Account",
        object(&[
            ("username", text()),
            ("role", schema("Role")),
            ("unit", opt_text()),
            ("inspector_group", opt_text()),
            ("display_name", opt_text()),
            ("disabled", boolean()),
        ]),
    );
    add(
        "Permissions",
        object(&[
            ("read_city", boolean()),
            ("manage", boolean()),
            ("record_visits", boolean()),
            ("review_findings", boolean()),
            ("answer_findings", boolean()),
            ("submit_self_assessment", boolean()),
        ]),
    );
    add(
        "Me",
        object(&[
            ("account", schema("Account")),
            ("role_label", text()),
            ("via", json!({ "type": "string", "enum": ["token", "session"] })),
            ("writes_need_csrf_header", boolean()),
            ("may", schema("Permissions")),
            ("unit", nullable(schema("Unit"))),
        ]),
    );
    add(
        "Unit",
        object(&[
            ("code", text()),
            ("name", text()),
            ("kind", schema("UnitKind")),
            ("parent_code", opt_text()),
            ("website", opt_text()),
            ("catalogue_url", opt_text()),
            ("email", opt_text()),
        ]),
    );
    add(
        "CurrentScore",
        object(&[
            ("cycle", text()),
            ("score", decimal()),
            ("grade", opt_text()),
            ("rank", integer()),
            ("passed", boolean()),
            ("laggard", boolean()),
        ]),
    );
    add(
        "UnitListing",
        extends("Unit", &[("kind_label", text()), ("score", nullable(schema("CurrentScore")))]),
    );
    add("UnitList", object(&[("cycle", opt_text()), ("units", array(schema("UnitListing")))]));
    add(
        "CycleInfo",
        object(&[
            ("cycle", text()),
            ("as_of", time()),
            ("created_at", time()),
            ("ruleset_id", text()),
            ("units", integer()),
            ("current", boolean()),
            ("ruleset_title", opt_text()),
            ("ruleset_version", opt_text()),
        ]),
    );
    add("SetCurrentCycleRequest", object(&[("cycle", text())]));
    add(
        "Unchecked",
        object(&[
            ("check", json!({ "type": "string", "description": "证据缺失检查项，如 site.unchecked" })),
            ("label", text()),
            ("reason", text()),
            ("error", opt_text()),
            ("url", opt_text()),
        ]),
    );
    add("Subordinates", object(&[("count", integer()), ("laggards", integer()), ("average", decimal())]));
    add(
        "RankedScore",
        object(&[
            ("unit", text()),
            ("name", text()),
            ("kind", schema("UnitKind")),
            ("parent_code", opt_text()),
            ("score", decimal()),
            ("grade", opt_text()),
            ("veto", opt_text()),
            ("passed", boolean()),
            ("rank", integer()),
            ("rank_in_kind", integer()),
            ("previous_rank", json!({ "type": ["integer", "null"] })),
            ("rank_change", json!({ "type": ["integer", "null"] })),
            ("laggard", boolean()),
            ("reasons", array(text())),
            ("subordinates", nullable(schema("Subordinates"))),
            ("self_claimed", nullable(decimal())),
            ("over_claim", nullable(decimal())),
            (
                "unchecked",
                json!({
                    "type": "array",
                    "items": schema("Unchecked"),
                    "description": "未能核查：网站或公开目录无法检查（空表示证据完整）"
                }),
            ),
        ]),
    );
    add("RankingRow", extends("RankedScore", &[("kind_label", text()), ("over_claimed", boolean())]));
    add(
        "RankingSummary",
        object(&[
            ("units", integer()),
            ("passed", integer()),
            ("failed", integer()),
            ("vetoed", integer()),
            ("laggards", integer()),
            ("unchecked", integer()),
            ("average", nullable(decimal())),
            ("highest", nullable(decimal())),
            ("lowest", nullable(decimal())),
        ]),
    );
    add("KindSummary", extends("RankingSummary", &[("kind", schema("UnitKind")), ("label", text())]));
    add("KindOption", object(&[("kind", schema("UnitKind")), ("label", text()), ("selected", boolean())]));
    add("ScoreScale", object(&[("points", decimal()), ("pass_mark", nullable(decimal()))]));
    add(
        "RankingView",
        object(&[
            ("cycles", array(schema("CycleInfo"))),
            ("cycle", nullable(schema("CycleInfo"))),
            ("kind", nullable(schema("UnitKind"))),
            ("laggards_only", boolean()),
            ("kinds", array(schema("KindOption"))),
            ("scale", nullable(schema("ScoreScale"))),
            ("summary", schema("RankingSummary")),
            ("cycle_summary", schema("RankingSummary")),
            ("by_kind", array(schema("KindSummary"))),
            ("rows", array(schema("RankingRow"))),
        ]),
    );
    add(
        "UnitFacts",
        object(&[
            ("code", text()),
            ("name", text()),
            ("kind", schema("UnitKind")),
            ("kind_label", text()),
            ("parent_code", opt_text()),
            ("parent_name", opt_text()),
            ("website", opt_text()),
            ("website_link", opt_text()),
            ("catalogue_url", opt_text()),
            ("catalogue_link", opt_text()),
            ("email", opt_text()),
            ("group", opt_text()),
        ]),
    );
    add("DetailField", object(&[("key", text()), ("label", text()), ("value", text())]));
    add(
        "FindingView",
        object(&[
            ("id", opt_text()),
            ("href", opt_text()),
            ("check", text()),
            ("check_label", opt_text()),
            ("source", schema("Source")),
            ("observed_at", time()),
            ("observed_day", text()),
            ("url", opt_text()),
            ("link", opt_text()),
            ("status", nullable(schema("FindingStatus"))),
            ("rectify_by", nullable(day())),
            (
                "snippet",
                json!({ "type": ["string", "null"], "description": "抓取到的原文片段，纯文本（未转义）" }),
            ),
            ("detail", array(schema("DetailField"))),
            ("current", boolean()),
            ("answerable", json!({ "type": "boolean", "description": "单位可对该问题答复（整改或申辩）" })),
        ]),
    );
    add(
        "Evidence",
        json!({ "oneOf": [
            extends("FindingView", &[("type", json!({ "const": "finding" }))]),
            object(&[
                ("type", json!({ "const": "value" })),
                ("name", text()),
                ("label", text()),
                ("value", decimal()),
                ("defaulted", boolean()),
            ]),
            object(&[("type", json!({ "const": "claim" })), ("item", text()), ("claimed", decimal())]),
        ] }),
    );
    add(
        "TreeNode",
        object(&[
            ("kind", text()),
            ("id", text()),
            ("label", text()),
            ("anchor", text()),
            ("available", nullable(decimal())),
            ("lost", nullable(decimal())),
            ("gained", nullable(decimal())),
            ("score", nullable(decimal())),
            ("cap", nullable(decimal())),
            ("weight", nullable(decimal())),
            ("claimed", nullable(decimal())),
            ("points_lost", decimal()),
            ("has_lost", boolean()),
            ("veto_met", boolean()),
            ("open", boolean()),
            ("notes", array(text())),
            ("evidence", array(schema("Evidence"))),
            ("children", array(schema("TreeNode"))),
        ]),
    );
    add(
        "ExplanationView",
        object(&[
            ("rule_set", text()),
            ("version", text()),
            ("hash", text()),
            ("as_of", day()),
            ("warnings", array(text())),
            ("root", schema("TreeNode")),
        ]),
    );
    add(
        "LostItem",
        object(&[
            ("anchor", text()),
            ("component", opt_text()),
            ("label", text()),
            ("points_lost", decimal()),
            ("available", nullable(decimal())),
            ("veto", boolean()),
            ("unchecked", boolean()),
            ("findings", integer()),
        ]),
    );
    add(
        "ClaimView",
        object(&[
            ("item", text()),
            ("label", opt_text()),
            ("claimed", decimal()),
            ("granted", nullable(decimal())),
            ("available", nullable(decimal())),
            ("over_claimed", boolean()),
            ("note", opt_text()),
            ("submitted_at", time()),
        ]),
    );
    add(
        "ScorePoint",
        object(&[
            ("cycle", text()),
            ("as_of", time()),
            ("ruleset_id", text()),
            ("total", decimal()),
            ("rank", integer()),
            ("rank_in_kind", integer()),
            ("laggard", boolean()),
            ("grade", opt_text()),
        ]),
    );
    add(
        "VisitRecord",
        object(&[
            ("id", text()),
            ("inspector", text()),
            ("group", opt_text()),
            ("date", day()),
            ("method", text()),
            ("note", opt_text()),
            ("findings", integer()),
        ]),
    );
    add(
        "UnitDetail",
        object(&[
            ("unit", schema("UnitFacts")),
            ("cycle", nullable(schema("CycleInfo"))),
            ("score", nullable(schema("RankingRow"))),
            ("history", array(schema("ScorePoint"))),
            ("explanation", nullable(schema("ExplanationView"))),
            ("lost_items", array(schema("LostItem"))),
            ("findings", array(schema("FindingView"))),
            ("visits", array(schema("VisitRecord"))),
            ("claims", array(schema("ClaimView"))),
        ]),
    );
    add(
        "Finding",
        object(&[
            ("id", opt_text()),
            ("unit", text()),
            ("check", text()),
            ("source", schema("Source")),
            ("observed_at", time()),
            ("url", opt_text()),
            ("detail", json!({ "description": "结构化证据（原样）" })),
            ("status", schema("FindingStatus")),
            ("rectify_by", nullable(day())),
        ]),
    );
    add(
        "FindingEvent",
        object(&[
            ("finding", text()),
            ("unit", text()),
            ("at", time()),
            ("actor", text()),
            ("role", schema("Role")),
            ("action", schema("RectificationAction")),
            ("from", schema("FindingStatus")),
            ("to", schema("FindingStatus")),
            ("note", opt_text()),
        ]),
    );
    add(
        "FindingDetail",
        extends(
            "Finding",
            &[
                ("check_label", opt_text()),
                ("status_label", text()),
                ("events", array(schema("FindingEvent"))),
                ("allowed_actions", array(schema("RectificationAction"))),
            ],
        ),
    );
    add(
        "FindingActionRequest",
        json!({
            "type": "object",
            "properties": { "action": schema("RectificationAction"), "note": opt_text() },
            "required": ["action"],
            "additionalProperties": false
        }),
    );
    add(
        "VisitRequest",
        json!({
            "type": "object",
            "properties": {
                "date": { "type": "string", "format": "date", "description": "检查日期，不晚于今天" },
                "method": {
                    "type": "string",
                    "description": "现场检查、听取汇报、网站检查、电话督查，或 onsite、briefing、website、phone"
                },
                "note": opt_text(),
                "findings": array(json!({
                    "type": "object",
                    "properties": {
                        "check": { "type": "string", "description": "检查项编号，如 column.stale 或规则集的 field.*" },
                        "note": opt_text(),
                        "rectify_by": { "type": ["string", "null"], "format": "date", "description": "整改期限，晚于检查日期" }
                    },
                    "required": ["check"],
                    "additionalProperties": false
                }))
            },
            "required": ["date", "method"],
            "additionalProperties": false
        }),
    );
    add(
        "RecordedVisit",
        object(&[
            ("unit", text()),
            ("inspector", text()),
            ("group", opt_text()),
            ("date", day()),
            ("method", text()),
            ("findings", integer()),
        ]),
    );
    add(
        "SheetItem",
        object(&[
            ("id", text()),
            ("title", text()),
            ("points", decimal()),
            ("earned", nullable(decimal())),
            ("claimed", nullable(decimal())),
            ("note", opt_text()),
            ("submitted_at", json!({ "type": ["string", "null"], "format": "date-time" })),
        ]),
    );
    add(
        "SelfAssessmentSheet",
        object(&[
            ("cycle", text()),
            ("rule_set", text()),
            ("rule_set_title", text()),
            ("rule_set_version", text()),
            ("score", nullable(decimal())),
            ("veto", json!({ "type": ["string", "null"], "description": "本周期使本单位被否决的否决项" })),
            ("items", array(schema("SheetItem"))),
        ]),
    );
    add(
        "SelfAssessmentRequest",
        json!({
            "type": "object",
            "properties": {
                "claims": array(json!({
                    "type": "object",
                    "properties": {
                        "item": { "type": "string", "description": "评分项目编号（见 GET /self-assessment）" },
                        "claimed": {
                            "type": ["number", "string"],
                            "description": "自评分，0 到该项分值之间的精确小数；写成字符串可保留小数位"
                        },
                        "note": opt_text()
                    },
                    "required": ["item", "claimed"],
                    "additionalProperties": false
                }))
            },
            "required": ["claims"],
            "additionalProperties": false
        }),
    );
    add(
        "SelfAssessmentOutcome",
        object(&[("units", integer()), ("claims", integer()), ("replaced", integer())]),
    );
    add("FollowUp", extends("Finding", &[("check_label", opt_text()), ("status_label", text())]));
    add(
        "MyGroup",
        object(&[
            ("group", text()),
            ("inspectors", array(text())),
            ("cycle", opt_text()),
            ("units", array(schema("UnitListing"))),
            ("follow_up", array(schema("FollowUp"))),
        ]),
    );
    add(
        "AuditItem",
        object(&[
            ("at", time()),
            ("actor", text()),
            ("action", text()),
            ("target", opt_text()),
            ("detail", json!({ "description": "操作细节（原样）" })),
        ]),
    );
    add(
        "JobView",
        object(&[
            ("id", integer()),
            ("kind", json!({ "type": "string", "enum": ["crawl", "assess"] })),
            ("kind_label", text()),
            ("title", text()),
            ("started_by", text()),
            ("started_at", time()),
            ("finished_at", json!({ "type": ["string", "null"], "format": "date-time" })),
            ("elapsed_seconds", integer()),
            ("state", json!({ "type": "string", "enum": ["running", "finished", "cancelled", "failed"] })),
            ("progress", json!({ "type": "object", "description": "阶段、已完成/总数、页面数、发现数等" })),
            (
                "summary",
                nullable(object(&[
                    ("lines", array(text())),
                    ("links", array(object(&[("href", text()), ("label", text())]))),
                    ("data", json!({})),
                ])),
            ),
            ("error", opt_text()),
        ]),
    );
    Value::Object(schemas)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in the document points at something the document defines.
    #[test]
    fn every_reference_resolves() {
        fn walk(value: &Value, document: &Value, bad: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        let pointer = target.trim_start_matches('#');
                        if document.pointer(pointer).is_none() {
                            bad.push(target.clone());
                        }
                    }
                    map.values().for_each(|v| walk(v, document, bad));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, document, bad)),
                _ => {}
            }
        }
        let document = document();
        let mut bad = Vec::new();
        walk(&document, &document, &mut bad);
        assert!(bad.is_empty(), "unresolved references: {bad:?}");
    }

    #[test]
    fn every_operation_names_its_roles_and_is_unique() {
        let document = document();
        let mut ids = std::collections::HashSet::new();
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let description = operation["description"].as_str().expect("description");
                assert!(description.contains("允许的角色"), "{method} {path}");
                assert!(
                    ids.insert(operation["operationId"].as_str().expect("id").to_string()),
                    "{method} {path}"
                );
                if method == "post" {
                    assert!(operation["requestBody"].is_object(), "{method} {path} documents its body");
                    assert!(description.contains("X-CSRF-Token"), "{method} {path}");
                }
            }
        }
        assert_eq!(document["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
    }
}
