//! Request bodies of the JSON API. A script that sends a wrong body must learn which field was
//! wrong, in words a person can act on: so bodies are read as plain JSON first and their fields
//! taken one by one through [`Fields`], whose every refusal names the field's full path
//! (`findings[2].check`) and answers 422. Unknown fields are refused too, so a typo such as
//! `notes` for `note` is not silently ignored.

use rocket::data::{Data, FromData, Limits, Outcome, ToByteUnit};
use rocket::http::Status;
use rocket::request::Request;
use serde_json::{Map, Value};

use crate::web::error::{WebError, note_guard_error};

/// The largest body the API reads: a visit with its findings is a few kilobytes.
const MAX_BODY_KIB: u64 = 256;

/// A request body that is a JSON object.
#[derive(Debug)]
pub(super) struct JsonObject(pub Map<String, Value>);

impl JsonObject {
    /// The body's top-level fields, for reading one by one.
    pub(super) fn fields(&self) -> Fields<'_> {
        Fields { object: &self.0, path: "" }
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for JsonObject {
    type Error = WebError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let limit = request.limits().get("json").unwrap_or(Limits::JSON).min(MAX_BODY_KIB.kibibytes());
        let refuse = |error: WebError| {
            let status = note_guard_error(request, &error);
            Outcome::Error((status, error))
        };
        let text = match data.open(limit).into_string().await {
            Ok(text) if text.is_complete() => text.into_inner(),
            Ok(_) => {
                let error = WebError::bad(format!("请求体超过 {MAX_BODY_KIB} KiB"));
                request.local_cache(|| crate::web::error::GuardMessage(error.to_string()));
                return Outcome::Error((Status::PayloadTooLarge, error));
            }
            Err(error) => return refuse(WebError::bad(format!("无法读取请求体：{error}"))),
        };
        match parse_object(&text) {
            Ok(object) => Outcome::Success(JsonObject(object)),
            Err(error) => refuse(error),
        }
    }
}

/// The body as a JSON object, or a 422 saying where the JSON broke.
pub(super) fn parse_object(text: &str) -> Result<Map<String, Value>, WebError> {
    if text.trim().is_empty() {
        return Err(WebError::bad("请求体为空，应为 JSON 对象"));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(WebError::bad("请求体应为 JSON 对象（{…}）")),
        Err(error) => Err(WebError::bad(format!(
            "请求体不是有效的 JSON（第 {} 行第 {} 列）",
            error.line(),
            error.column()
        ))),
    }
}

/// The fields of one JSON object, read by name. Every error names the field by its full path.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields<'a> {
    object: &'a Map<String, Value>,
    /// Where this object sits in the body: empty at the top, `findings[0]` further down.
    path: &'a str,
}

/// A refusal that names the field.
fn field_error(path: &str, problem: &str) -> WebError {
    WebError::bad(format!("字段“{path}”{problem}"))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "布尔值",
        Value::Number(_) => "数字",
        Value::String(_) => "字符串",
        Value::Array(_) => "数组",
        Value::Object(_) => "对象",
    }
}

impl<'a> Fields<'a> {
    /// The full path of a field of this object.
    pub(super) fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() { name.to_string() } else { format!("{}.{name}", self.path) }
    }

    /// Refuses fields other than `known`, naming the first unknown one and the accepted ones.
    pub(super) fn only(&self, known: &[&str]) -> Result<(), WebError> {
        match self.object.keys().find(|key| !known.contains(&key.as_str())) {
            None => Ok(()),
            Some(unknown) => {
                Err(field_error(&self.path_of(unknown), &format!("不认识，可用字段：{}", known.join("、"))))
            }
        }
    }

    /// A field's value; JSON `null` counts as absent.
    fn value(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|value| !value.is_null())
    }

    fn wrong_type(&self, name: &str, expected: &str, got: &Value) -> WebError {
        field_error(&self.path_of(name), &format!("应为{expected}，收到的是{}", kind_of(got)))
    }

    fn missing(&self, name: &str) -> WebError {
        field_error(&self.path_of(name), "缺失")
    }

    /// An optional text field, trimmed; blank counts as absent.
    pub(super) fn opt_text(&self, name: &str) -> Result<Option<String>, WebError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(text)) => {
                let text = text.trim();
                Ok((!text.is_empty()).then(|| text.to_string()))
            }
            Some(other) => Err(self.wrong_type(name, "字符串", other)),
        }
    }

    /// A required, non-blank text field, trimmed.
    pub(super) fn text(&self, name: &str) -> Result<String, WebError> {
        self.opt_text(name)?.ok_or_else(|| self.missing(name))
    }

    /// A required text field parsed by `parse`; its error message follows the field's name.
    pub(super) fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, WebError> {
        let text = self.text(name)?;
        parse(&text).map_err(|problem| field_error(&self.path_of(name), &format!("无效：{problem}")))
    }

    /// An optional number given as a JSON number or as text, kept as its literal text so that
    /// whoever reads it as an exact decimal sees what was written.
    pub(super) fn opt_number_text(&self, name: &str) -> Result<Option<String>, WebError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(Value::String(text)) => Ok(Some(text.trim().to_string())),
            Some(other) => Err(self.wrong_type(name, "数字", other)),
        }
    }

    /// A list of objects; absent is empty. `read` gets each element's fields, whose errors name
    /// the element (`findings[1].check`).
    pub(super) fn objects<T>(
        &self,
        name: &str,
        read: impl FnMut(Fields<'_>) -> Result<T, WebError>,
    ) -> Result<Vec<T>, WebError> {
        if self.value(name).is_none() {
            return Ok(Vec::new());
        }
        self.required_objects(name, read)
    }

    /// A list of objects that must be present (it may be empty).
    pub(super) fn required_objects<T>(
        &self,
        name: &str,
        mut read: impl FnMut(Fields<'_>) -> Result<T, WebError>,
    ) -> Result<Vec<T>, WebError> {
        let items = match self.value(name) {
            None => return Err(self.missing(name)),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(self.wrong_type(name, "数组", other)),
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let path = format!("{}[{index}]", self.path_of(name));
                match item {
                    Value::Object(object) => read(Fields { object, path: &path }),
                    other => Err(field_error(&path, &format!("应为对象，收到的是{}", kind_of(other)))),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(error: WebError) -> String {
        assert_eq!(error.status(), Status::UnprocessableEntity, "{error}");
        error.to_string()
    }

    #[test]
    fn broken_json_and_non_objects_are_refused_with_where() {
        assert!(message(parse_object("{\"a\": ").unwrap_err()).contains("第 1 行"));
        assert!(message(parse_object("[1]").unwrap_err()).contains("JSON 对象"));
        assert!(message(parse_object("  ").unwrap_err()).contains("为空"));
    }

    #[test]
    fn fields_name_themselves_in_every_refusal() {
        let body = JsonObject(parse_object(r#"{"action": 5, "kind": "x", "extra": 1}"#).unwrap());
        let fields = body.fields();
        let error = message(fields.text("action").unwrap_err());
        assert!(error.contains("“action”") && error.contains("字符串") && error.contains("数字"), "{error}");
        let error =
            message(fields.parsed("kind", |t| t.parse::<u8>().map_err(|e| e.to_string())).unwrap_err());
        assert!(error.contains("“kind”无效"), "{error}");
        assert!(message(fields.text("note").unwrap_err()).contains("“note”缺失"));
        let error = message(fields.only(&["action", "date"]).unwrap_err());
        assert!(error.contains("“extra”") && error.contains("action、date"), "{error}");
    }

    #[test]
    fn nested_lists_name_the_element() {
        let body = JsonObject(
            parse_object(
                r#"{"claims": [{"item": "a", "claimed": "12.50"}, {"item": "b", "claimed": true}]}"#,
            )
            .unwrap(),
        );
        let error = message(
            body.fields()
                .objects("claims", |f| Ok((f.text("item")?, f.opt_number_text("claimed")?)))
                .unwrap_err(),
        );
        assert!(error.contains("“claims[1].claimed”"), "{error}");
        let body = JsonObject(parse_object(r#"{"claims": [{"item": "a", "claimed": "12.50"}, 3]}"#).unwrap());
        let error = message(body.fields().objects("claims", |f| f.text("item")).unwrap_err());
        assert!(error.contains("“claims[1]”"), "{error}");
        let body = JsonObject(parse_object(r#"{"claims": [{"item": "a", "claimed": 7.5}]}"#).unwrap());
        let read = body.fields().objects("claims", |f| f.opt_number_text("claimed")).unwrap();
        assert_eq!(read, vec![Some("7.5".to_string())]);
        assert_eq!(body.fields().objects("none", |f| f.text("x")).unwrap(), Vec::<String>::new());
        assert!(
            message(body.fields().required_objects("none", |f| f.text("x")).unwrap_err())
                .contains("“none”缺失")
        );
    }

    #[test]
    fn text_is_trimmed_and_blank_is_absent() {
        let body = JsonObject(parse_object(r#"{"note": "  ok ", "blank": "   ", "nothing": null}"#).unwrap());
        let fields = body.fields();
        assert_eq!(fields.opt_text("note").unwrap().as_deref(), Some("ok"));
        assert_eq!(fields.opt_text("blank").unwrap(), None);
        assert_eq!(fields.opt_text("nothing").unwrap(), None);
    }
}
