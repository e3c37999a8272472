//! The OpenAPI 3.1 description of the API, served at `GET /api/v1/openapi.json` without sign-in.
//!
//! The operation table (paths, roles, CSRF notes) is written here as data beside the routes it
//! describes; each operation names the roles that may call it, and writes list the two ways to
//! be allowed (a token, or a session with `X-CSRF-Token`). The component schemas are not
//! written at all: they are derived (`schemars`) from the very types the handlers answer with
//! and from the request shapes in [`super::requests`], so a field added to a type is documented
//! by the same change.
//!
//! Keeping it honest is a test's job (tests/it/web_api.rs): every mounted route is documented,
//! every documented operation is mounted, and answers match their documented schemas.

use rocket::serde::json::Json;
use rocket::{get, routes};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Value, json};

use super::me::Me;
use super::office::AuditItem;
use super::requests::{FindingActionRequest, SelfAssessmentRequest, SetCurrentCycleRequest, VisitRequest};
use crate::model::{Account, UnitKind};
use crate::store::{CycleInfo, ScorePoint, SelfAssessmentOutcome, VisitRecord};
use crate::web::actions::self_assessment::SelfAssessmentSheet;
use crate::web::actions::visit::RecordedVisit;
use crate::web::jobs::JobView;
use crate::web::views::finding::FindingDetail;
use crate::web::views::groups::MyGroup;
use crate::web::views::ranking::RankingView;
use crate::web::views::unit_detail::{FindingView, UnitDetail};
use crate::web::views::units::UnitList;

/// `GET /openapi.json` (under `/api/v1`), open to anyone: the document itself.
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

/// Every error answer's body, as `WebError` writes it.
#[derive(JsonSchema)]
#[schemars(rename = "Error")]
#[expect(dead_code, reason = "describes the body WebError writes with json!")]
struct ErrorBody {
    /// 中文说明
    error: String,
    /// HTTP 状态码
    status: u16,
}

/// The component schemas, gathered as the operation table names the types.
///
/// Answers are described as serde writes them and request bodies as they are read (a decimal
/// may then be a JSON number too), by two generators that share `#/components/schemas`.
struct Schemas {
    answers: SchemaGenerator,
    bodies: SchemaGenerator,
}

impl Schemas {
    fn new() -> Self {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        Schemas {
            answers: settings.clone().for_serialize().into_generator(),
            bodies: settings.for_deserialize().into_generator(),
        }
    }

    /// The schema of an answer of type `T` (a `$ref` for named types).
    fn answer<T: JsonSchema>(&mut self) -> Value {
        self.answers.subschema_for::<T>().to_value()
    }

    /// The schema of a request body or parameter of type `T`.
    fn body<T: JsonSchema>(&mut self) -> Value {
        self.bodies.subschema_for::<T>().to_value()
    }

    /// Every schema named so far. A type both read and written (an enum such as `UnitKind`)
    /// is described the same way by both generators; the answer's description is kept.
    fn into_components(mut self) -> Value {
        let mut all = self.bodies.take_definitions(true);
        all.extend(self.answers.take_definitions(true));
        Value::Object(all)
    }
}

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

fn text() -> Value {
    json!({ "type": "string" })
}

fn boolean() -> Value {
    json!({ "type": "boolean" })
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

fn ranking_parameters(s: &mut Schemas) -> Vec<Value> {
    vec![
        cycle_parameter(),
        query_parameter("kind", "只看某类单位", s.body::<UnitKind>()),
        query_parameter("laggards", "true：只看后进单位", boolean()),
    ]
}

fn operations(s: &mut Schemas) -> Vec<Operation> {
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
        op("get", "/me", "me", "account", "当前账号及其权限", EVERYONE, ok(s.answer::<Me>()), Read),
        op(
            "get",
            "/cycles",
            "listCycles",
            "cycles",
            "全部评估周期（从旧到新）",
            EVERYONE,
            ok(s.answer::<Vec<CycleInfo>>()),
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
                ok(s.answer::<Option<CycleInfo>>()),
                Read,
            )
        },
        Operation {
            body: Some(s.body::<SetCurrentCycleRequest>()),
            ..op(
                "post",
                "/cycles/current",
                "setCurrentCycle",
                "cycles",
                "设置当前评估周期（排名页默认显示该周期）",
                OFFICE,
                ok(s.answer::<CycleInfo>()),
                Write,
            )
        },
        Operation {
            parameters: ranking_parameters(s),
            ..op(
                "get",
                "/rankings",
                "rankings",
                "rankings",
                "排名（与排名页相同的数据）",
                READERS,
                ok(s.answer::<RankingView>()),
                Read,
            )
        },
        Operation {
            parameters: ranking_parameters(s),
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
            ok(s.answer::<UnitList>()),
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
                ok(s.answer::<UnitDetail>()),
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
                ok(s.answer::<Vec<FindingView>>()),
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
                ok(s.answer::<Vec<ScorePoint>>()),
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
                ok(s.answer::<Vec<VisitRecord>>()),
                Read,
            )
        },
        Operation {
            parameters: vec![unit_code_parameter()],
            body: Some(s.body::<VisitRequest>()),
            notes: "同一监察员同一天以同一方式检查同一单位只能录入一次。",
            ..op(
                "post",
                "/units/{code}/visits",
                "recordVisit",
                "inspection",
                "录入检查记录及发现的问题",
                "inspector（仅本组负责的单位）",
                (201, Content::Json(s.answer::<RecordedVisit>())),
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
                ok(s.answer::<FindingDetail>()),
                Read,
            )
        },
        Operation {
            parameters: vec![path_parameter("id", "问题编号，如 finding:abc123")],
            body: Some(s.body::<FindingActionRequest>()),
            notes: "unit：rectify、dispute（须填写理由）；office 或本组 inspector：confirm_fix、reject_fix、withdraw、uphold、seen_fixed。当前状态不允许的操作返回 422。",
            ..op(
                "post",
                "/findings/{id}/actions",
                "actOnFinding",
                "findings",
                "整改流程操作",
                "unit（仅本单位的问题）；office；inspector（仅本组负责单位的问题）",
                ok(s.answer::<FindingDetail>()),
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
            ok(s.answer::<SelfAssessmentSheet>()),
            Read,
        ),
        Operation {
            body: Some(s.body::<SelfAssessmentRequest>()),
            notes: "同一项目的新自评覆盖旧自评。",
            ..op(
                "post",
                "/self-assessment",
                "submitSelfAssessment",
                "self-assessment",
                "提交自评",
                "unit",
                ok(s.answer::<SelfAssessmentOutcome>()),
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
            ok(s.answer::<MyGroup>()),
            Read,
        ),
        op(
            "get",
            "/accounts",
            "listAccounts",
            "office",
            "全部账号（不含密码）",
            OFFICE,
            ok(s.answer::<Vec<Account>>()),
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
                ok(s.answer::<Vec<AuditItem>>()),
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
            ok(s.answer::<Vec<JobView>>()),
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
                ok(s.answer::<JobView>()),
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
    let mut schemas = Schemas::new();
    let operations = operations(&mut schemas);
    schemas.answer::<ErrorBody>();
    let mut paths = serde_json::Map::new();
    for operation in operations {
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
                数值（得分、分值）为精确小数，以字符串表示（如 \"87.50\"）。\n\n\
                components.schemas 由程序中的数据类型生成，与实际应答一致。"
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
            "schemas": schemas.into_components()
        }
    })
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
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

    /// The names a value serializes to, and the properties its documented schema lists.
    fn keys_and_properties<T: serde::Serialize>(value: &T, name: &str) -> (Vec<String>, Vec<String>) {
        let written = serde_json::to_value(value).expect("serializes");
        let document = document();
        let schema = &document["components"]["schemas"][name];
        let mut keys: Vec<String> = written.as_object().expect("an object").keys().cloned().collect();
        let mut properties: Vec<String> =
            schema["properties"].as_object().expect("properties").keys().cloned().collect();
        keys.sort();
        properties.sort();
        (keys, properties)
    }

    /// A field added to (or renamed in) a type the API answers with is in the document by the
    /// same change: what a value writes and what its schema lists are the same names.
    #[test]
    fn documented_properties_are_what_the_types_write() {
        use chrono::{TimeZone, Utc};

        use crate::model::{
            Finding, FindingEvent, FindingStatus, OrgCode, RectificationAction, Role, Source, Unchecked, Unit,
        };

        let code = OrgCode::parse("11450100000000019D").expect("valid code");
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).single().expect("a time");
        let unit = Unit {
            code: code.clone(),
            name: "市公安局".into(),
            kind: UnitKind::Department,
            parent_code: None,
            website: Some("https://gaj.example.gov.cn/".into()),
            catalogue_url: None,
            email: None,
        };
        let account = Account {
            username: "unit1".into(),
            role: Role::Unit,
            unit: Some(code.clone()),
            inspector_group: None,
            display_name: None,
            disabled: false,
        };
        let finding = Finding {
            id: Some("finding:x".into()),
            unit: code.clone(),
            check: "column.stale".into(),
            source: Source::Inspector,
            observed_at: at,
            url: None,
            detail: json!({}),
            status: FindingStatus::Open,
            rectify_by: None,
        };
        let event = FindingEvent {
            finding: "finding:x".into(),
            unit: code,
            at,
            actor: "unit1".into(),
            role: Role::Unit,
            action: RectificationAction::Dispute,
            from: FindingStatus::Open,
            to: FindingStatus::Disputed,
            note: None,
        };
        let unchecked = Unchecked {
            check: "site.unchecked".into(),
            label: "网站未能核查".into(),
            reason: "无法连接".into(),
            error: None,
            url: None,
        };
        for (keys, properties) in [
            keys_and_properties(&unit, "Unit"),
            keys_and_properties(&account, "Account"),
            keys_and_properties(&event, "FindingEvent"),
            keys_and_properties(&unchecked, "Unchecked"),
        ] {
            assert_eq!(keys, properties);
        }
        // A finding's page adds its own fields to the finding's.
        let (keys, properties) = keys_and_properties(&finding, "FindingDetail");
        let missing: Vec<_> = keys.iter().filter(|key| !properties.contains(key)).collect();
        assert!(missing.is_empty(), "undocumented: {missing:?}");
        assert!(properties.contains(&"allowed_actions".to_string()));
    }

    /// The unit kinds a client may send and will read are `UnitKind`'s, every one of them.
    #[test]
    fn unit_kinds_come_from_the_type() {
        let document = document();
        let schema = &document["components"]["schemas"]["UnitKind"];
        let documented: Vec<&Value> =
            schema["oneOf"].as_array().expect("one branch per kind").iter().map(|b| &b["const"]).collect();
        let kinds: Vec<Value> =
            UnitKind::ALL.iter().map(|kind| serde_json::to_value(kind).expect("serializes")).collect();
        assert_eq!(documented, kinds.iter().collect::<Vec<_>>());
        let parameters = &document["paths"]["/rankings"]["get"]["parameters"];
        let kind = parameters.as_array().expect("parameters").iter().find(|p| p["name"] == "kind");
        assert_eq!(kind.expect("a kind parameter")["schema"]["$ref"], "#/components/schemas/UnitKind");
    }
}
