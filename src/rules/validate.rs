//! From raw TOML to a validated rule set, collecting every problem with its line.
//!
//! Validation keeps going after a problem so that one `gongkai rules check` run lists all
//! of them; only a TOML syntax error stops it early (nothing after it can be read).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use toml::Spanned;
use toml::value::Datetime;

use crate::model::{
    CHECKS, FindingStatus, MISSING_EVIDENCE_CHECKS, Source, UnitKind, check_info, is_check_id,
    is_missing_evidence,
};

use super::error::{Locator, Problems, RuleSetError};
use super::expr::{Env, EvalError, Expr, NULL_ZH};
use super::format::*;
use super::spec::*;
use super::vars::Layout;

/// Everything a rule set holds once validated.
#[derive(Debug, Clone)]
pub(super) struct Validated {
    pub meta: Meta,
    pub grades: Vec<Grade>,
    pub checks: BTreeMap<String, String>,
    pub metrics: BTreeMap<String, MetricSpec>,
    pub counters: Vec<Counter>,
    pub sources: SourcePolicy,
    pub components: Vec<Component>,
    pub vetoes: Vec<Veto>,
    pub indicators: Vec<Indicator>,
    pub na_method: NaMethod,
    pub bonus: Option<Bonus>,
    pub unchecked: Vec<UncheckedRule>,
    pub examples: Vec<Example>,
    /// The variables expressions see, laid out once for every unit scored.
    pub vars: Layout,
}

const ALL_SOURCES: [Source; 3] = [Source::Inspector, Source::Crawler, Source::SelfReported];

pub(super) fn validate(text: &str, origin: &str) -> Result<Validated, RuleSetError> {
    let mut v = Validator {
        p: Problems::new(Locator::new(origin, text)),
        names: BTreeSet::new(),
        read: BTreeSet::new(),
    };
    let raw: RawRuleSet = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            v.p.push(span, "", format!("TOML 格式错误：{}", e.message().trim()));
            return v.p.into_result(unreachable_validated());
        }
    };
    let result = v.rule_set(&raw);
    v.p.into_result(result)
}

/// `Problems::into_result` needs a value even when it returns the error; this one is never
/// seen because the problem list is not empty.
fn unreachable_validated() -> Validated {
    Validated {
        meta: Meta {
            id: String::new(),
            title: String::new(),
            version: String::new(),
            basis: Vec::new(),
            applies_to: Vec::new(),
            in_force: InForce { from: NaiveDate::MIN, until: None },
            points: Decimal::ZERO,
            pass_mark: Decimal::ZERO,
            decimals: 2,
        },
        grades: Vec::new(),
        checks: BTreeMap::new(),
        metrics: BTreeMap::new(),
        counters: Vec::new(),
        sources: default_sources(),
        components: Vec::new(),
        vetoes: Vec::new(),
        indicators: Vec::new(),
        na_method: NaMethod::Scale,
        bonus: None,
        unchecked: Vec::new(),
        examples: Vec::new(),
        vars: Layout::default(),
    }
}

fn default_sources() -> SourcePolicy {
    SourcePolicy {
        counted_statuses: vec![
            FindingStatus::Open,
            FindingStatus::Rectified,
            FindingStatus::Disputed,
            FindingStatus::Confirmed,
        ],
        precedence: ALL_SOURCES.to_vec(),
        precedence_by_check: BTreeMap::new(),
        window_days: None,
    }
}

struct Validator<'a> {
    p: Problems<'a>,
    /// The variable names expressions may read (`count.…`, `metric.…`, `kind`).
    names: BTreeSet<String>,
    /// The variable names the rule set's valid expressions read.
    read: BTreeSet<String>,
}

/// A name segment: lower-case letter, then lower-case letters, digits or `_`.
fn is_segment(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_dotted_name(s: &str) -> bool {
    s.split('.').all(is_segment)
}

fn is_item_id(s: &str) -> bool {
    is_segment(s)
}

impl<'a> Validator<'a> {
    fn span<T>(s: &Spanned<T>) -> Range<usize> {
        s.span()
    }

    /// A decimal from a number literal's source text (never via a binary float).
    fn num(&mut self, n: &Num, key: &str) -> Option<Decimal> {
        let span = n.span();
        let literal = match n.get_ref() {
            NumLit::Bare => self.p.at.text().get(span.clone()).unwrap_or("").replace('_', ""),
            NumLit::Quoted(s) => s.trim().to_string(),
        };
        let literal = literal.strip_prefix('+').unwrap_or(&literal).to_string();
        let parsed = if literal.contains(['e', 'E']) {
            Decimal::from_scientific(&literal).ok()
        } else {
            Decimal::from_str_exact(&literal).ok()
        };
        if parsed.is_none() {
            self.p.push(span, key, format!("“{literal}”不是有效的数字"));
        }
        parsed
    }

    fn non_negative(&mut self, n: &Num, key: &str) -> Option<Decimal> {
        let value = self.num(n, key)?;
        if value < Decimal::ZERO {
            self.p.push(n.span(), key, format!("不能为负数（现为 {value}）"));
            return None;
        }
        Some(value)
    }

    fn positive(&mut self, n: &Num, key: &str) -> Option<Decimal> {
        let value = self.num(n, key)?;
        if value <= Decimal::ZERO {
            self.p.push(n.span(), key, format!("应大于 0（现为 {value}）"));
            return None;
        }
        Some(value)
    }

    fn text(&mut self, t: &Text, key: &str) -> String {
        let value = t.get_ref().trim().to_string();
        if value.is_empty() {
            self.p.push(t.span(), key, "不能为空");
        }
        value
    }

    fn item_id(&mut self, t: &Text, key: &str, seen: &mut BTreeSet<String>) -> String {
        let id = t.get_ref().clone();
        if !is_item_id(&id) {
            self.p.push(t.span(), key, format!("编号“{id}”应由小写英文字母、数字和下划线组成，以字母开头"));
        } else if !seen.insert(id.clone()) {
            self.p.push(t.span(), key, format!("编号“{id}”重复"));
        }
        id
    }

    fn date(&mut self, d: &Spanned<Datetime>, key: &str) -> Option<NaiveDate> {
        let value = d.get_ref();
        let date = match (value.date, value.time, value.offset) {
            (Some(date), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
            }
            _ => None,
        };
        if date.is_none() {
            self.p.push(d.span(), key, format!("应为日期，如 2019-04-01（现为 {value}）"));
        }
        date
    }

    fn days(&mut self, d: &Spanned<i64>, key: &str) -> Option<u32> {
        match u32::try_from(*d.get_ref()) {
            Ok(n) if n > 0 => Some(n),
            _ => {
                self.p.push(d.span(), key, "天数应为正整数");
                None
            }
        }
    }

    fn source(&mut self, t: &Text, key: &str) -> Option<Source> {
        match t.get_ref().as_str() {
            "crawler" => Some(Source::Crawler),
            "inspector" => Some(Source::Inspector),
            "self" => Some(Source::SelfReported),
            other => {
                self.p.push(
                    t.span(),
                    key,
                    format!("来源“{other}”无效，应为 crawler（网站监测）、inspector（实地检查）或 self（单位自评）"),
                );
                None
            }
        }
    }

    fn sources(&mut self, list: &[Text], key: &str) -> Vec<Source> {
        let mut out = Vec::new();
        for (i, t) in list.iter().enumerate() {
            if let Some(s) = self.source(t, &format!("{key}[{i}]")) {
                if out.contains(&s) {
                    self.p.push(t.span(), format!("{key}[{i}]"), format!("来源“{s}”重复"));
                } else {
                    out.push(s);
                }
            }
        }
        out
    }

    fn status(&mut self, t: &Text, key: &str, allow_closed: bool) -> Option<FindingStatus> {
        let status = match t.get_ref().as_str() {
            "open" => FindingStatus::Open,
            "rectified" => FindingStatus::Rectified,
            "disputed" => FindingStatus::Disputed,
            "confirmed" => FindingStatus::Confirmed,
            "closed" if allow_closed => FindingStatus::Closed,
            "closed" => {
                self.p.push(t.span(), key, "已关闭（closed）的问题一律不计分，不能列入");
                return None;
            }
            other => {
                self.p.push(
                    t.span(),
                    key,
                    format!("状态“{other}”无效，应为 open、rectified、disputed、confirmed 或 closed"),
                );
                return None;
            }
        };
        Some(status)
    }

    /// Compiles an expression and checks every variable it reads; `want_bool` decides
    /// whether it is a condition or a formula. A trial run on default values catches a
    /// condition that yields a number and the like.
    fn expr(&mut self, t: &Text, key: &str, want_bool: bool) -> Option<Expr> {
        let expr = match Expr::compile(t.get_ref()) {
            Ok(expr) => expr,
            Err(message) => {
                self.p.push(t.span(), key, message);
                return None;
            }
        };
        let mut ok = true;
        for name in expr.refs() {
            if !self.names.contains(name) {
                ok = false;
                let hint = if name.starts_with("count.") {
                    "count. 后应为检查项编号或计数器名称"
                } else if name.starts_with("metric.") {
                    "metric. 后应为 [metrics] 中声明的指标数据"
                } else {
                    "可用变量为 count.检查项、metric.指标数据、kind（单位类型）"
                };
                self.p.push(t.span(), key, format!("表达式中的变量“{name}”不存在（{hint}）"));
            }
        }
        if ok {
            let env = self.trial_env();
            let result =
                if want_bool { expr.eval_bool(&env).map(|_| ()) } else { expr.eval_number(&env).map(|_| ()) };
            match result {
                Err(e @ (EvalError::NotBool(found) | EvalError::NotNumber(found))) if found != NULL_ZH => {
                    self.p.push(t.span(), key, e.to_string());
                    ok = false;
                }
                _ => {}
            }
        }
        if ok {
            self.read.extend(expr.refs().iter().cloned());
        }
        ok.then_some(expr)
    }

    fn trial_env(&self) -> Env {
        let mut env = Env::default();
        for name in &self.names {
            if name == "kind" {
                env.set_text(name.clone(), UnitKind::Department.as_str());
            } else {
                env.set_number(name.clone(), Decimal::ZERO);
            }
        }
        env
    }

    fn rule_set(&mut self, raw: &RawRuleSet) -> Validated {
        let meta = self.meta(raw.rule_set.get_ref());
        let checks = self.checks(raw);
        let metrics = self.metrics(raw);
        let counters = self.counters(raw, &checks);
        self.names.insert("kind".to_string());
        for check in checks.keys() {
            self.names.insert(format!("count.{check}"));
        }
        for counter in &counters {
            self.names.insert(format!("count.{}", counter.name));
        }
        for metric in metrics.keys() {
            self.names.insert(format!("metric.{metric}"));
        }
        let sources = self.source_policy(raw, &checks);
        let na_method = match &raw.not_applicable {
            None => NaMethod::Scale,
            Some(na) => match na.get_ref().method.get_ref().as_str() {
                "scale" => NaMethod::Scale,
                "spread" => NaMethod::Spread,
                other => {
                    self.p.push(
                        na.get_ref().method.span(),
                        "not_applicable.method",
                        format!("“{other}”无效，应为 scale（按比例折算）或 spread（分摊到其他指标）"),
                    );
                    NaMethod::Scale
                }
            },
        };
        let components = self.components(raw);
        let mut veto_ids = BTreeSet::new();
        let mut vetoes = Vec::new();
        for (i, veto) in raw.vetoes.iter().enumerate() {
            let key = format!("vetoes[{i}]");
            let veto = veto.get_ref();
            let id = self.item_id(&veto.id, &format!("{key}.id"), &mut veto_ids);
            let title = self.text(&veto.title, &format!("{key}.title"));
            let when = self.expr(&veto.when, &format!("{key}.when"), true);
            let note = veto.note.as_ref().map(|n| n.get_ref().clone());
            if let Some(when) = when {
                vetoes.push(Veto { id, title, when, note });
            }
        }
        let indicators = self.indicators(raw, &checks, &counters, &metrics, &meta);
        let bonus = raw.bonus.as_ref().map(|b| self.bonus(b, &checks, &counters, &metrics, &meta));
        let grades = self.grades(raw, &meta, bonus.as_ref());
        let unchecked = self.unchecked(raw, &checks, &indicators);
        let context = ExampleContext {
            meta: &meta,
            grades: &grades,
            vetoes: &vetoes,
            indicators: &indicators,
            checks: &checks,
            metrics: &metrics,
        };
        let examples = self.examples(raw, &context);
        let vars = Layout::new(&checks, &counters, &metrics, &self.read);
        Validated {
            meta,
            grades,
            checks,
            metrics,
            counters,
            sources,
            components,
            vetoes,
            indicators,
            na_method,
            bonus,
            unchecked,
            examples,
            vars,
        }
    }

    fn meta(&mut self, raw: &RawMeta) -> Meta {
        let id = raw.id.get_ref().clone();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            self.p.push(
                raw.id.span(),
                "rule_set.id",
                "规则集编号应由小写英文字母、数字和连字符组成，如 gov-website-2019",
            );
        }
        let title = self.text(&raw.title, "rule_set.title");
        let version = self.text(&raw.version, "rule_set.version");
        let basis = raw.basis.iter().map(|b| b.get_ref().clone()).collect();
        let mut applies_to = Vec::new();
        if raw.applies_to.is_empty() {
            self.p.push(raw.id.span(), "rule_set.applies_to", "应至少列出一种适用的单位类型");
        }
        for (i, t) in raw.applies_to.iter().enumerate() {
            match UnitKind::from_str(t.get_ref()) {
                Ok(kind) if !applies_to.contains(&kind) => applies_to.push(kind),
                Ok(_) => self.p.push(t.span(), format!("rule_set.applies_to[{i}]"), "单位类型重复"),
                Err(e) => self.p.push(t.span(), format!("rule_set.applies_to[{i}]"), e.to_string()),
            }
        }
        let from = self.date(&raw.in_force_from, "rule_set.in_force_from").unwrap_or(NaiveDate::MIN);
        let until = raw.in_force_until.as_ref().and_then(|u| self.date(u, "rule_set.in_force_until"));
        if let (Some(until), Some(span)) = (until, raw.in_force_until.as_ref().map(Self::span))
            && until < from
        {
            self.p.push(span, "rule_set.in_force_until", "失效日期早于生效日期");
        }
        let points = self.positive(&raw.points, "rule_set.points").unwrap_or(Decimal::ONE_HUNDRED);
        let pass_mark = self.non_negative(&raw.pass_mark, "rule_set.pass_mark").unwrap_or(Decimal::ZERO);
        if pass_mark > points {
            self.p.push(
                raw.pass_mark.span(),
                "rule_set.pass_mark",
                format!("及格线 {pass_mark} 超过总分 {points}"),
            );
        }
        let decimals = match &raw.decimals {
            None => 2,
            Some(d) => match u32::try_from(*d.get_ref()) {
                Ok(n) if n <= 6 => n,
                _ => {
                    self.p.push(d.span(), "rule_set.decimals", "小数位数应为 0 到 6 的整数");
                    2
                }
            },
        };
        Meta {
            id,
            title,
            version,
            basis,
            applies_to,
            in_force: InForce { from, until },
            points,
            pass_mark,
            decimals,
        }
    }

    fn checks(&mut self, raw: &RawRuleSet) -> BTreeMap<String, String> {
        let mut checks: BTreeMap<String, String> =
            CHECKS.iter().map(|c| (c.id.to_string(), c.title_zh.to_string())).collect();
        for (id, title) in &raw.checks {
            let key = format!("checks.\"{}\"", id.get_ref());
            if check_info(id.get_ref()).is_some() {
                self.p.push(id.span(), key, "该检查项已在通用检查项中定义，无需重复声明");
            } else if !id.get_ref().starts_with("field.") || !is_check_id(id.get_ref()) {
                self.p.push(
                    id.span(),
                    key,
                    "自定义检查项编号应以 field. 开头，由小写英文字母和下划线组成，如 field.no_staff",
                );
            } else {
                let title = self.text(title, &key);
                checks.insert(id.get_ref().clone(), title);
            }
        }
        checks
    }

    fn metrics(&mut self, raw: &RawRuleSet) -> BTreeMap<String, MetricSpec> {
        let mut metrics = BTreeMap::new();
        for (name, spec) in &raw.metrics {
            let key = format!("metrics.\"{}\"", name.get_ref());
            if !is_dotted_name(name.get_ref()) {
                self.p.push(
                    name.span(),
                    &key,
                    "指标数据名称应为小写英文单词，用点分隔，如 site.failure_ratio",
                );
                continue;
            }
            let spec = spec.get_ref();
            let title = self.text(&spec.title, &format!("{key}.title"));
            let default = self.num(&spec.default, &format!("{key}.default")).unwrap_or_default();
            metrics.insert(name.get_ref().clone(), MetricSpec { title, default });
        }
        // `a.b` and `a.b.c` cannot both exist: in an expression `metric.a.b` is a number.
        for name in raw.metrics.keys() {
            let prefix = format!("{}.", name.get_ref());
            if metrics.keys().any(|other| other.starts_with(&prefix)) {
                self.p.push(
                    name.span(),
                    format!("metrics.\"{}\"", name.get_ref()),
                    "名称不能是另一指标数据名称的前缀",
                );
            }
        }
        metrics
    }

    fn counters(&mut self, raw: &RawRuleSet, checks: &BTreeMap<String, String>) -> Vec<Counter> {
        let mut counters = Vec::new();
        for (name, counter) in &raw.counters {
            let key = format!("counters.{}", name.get_ref());
            let name_text = name.get_ref().clone();
            if !is_segment(&name_text) {
                self.p.push(name.span(), &key, "计数器名称应为一个小写英文单词（可含下划线），不含点");
                continue;
            }
            if checks.keys().any(|c| c.split('.').next() == Some(name_text.as_str())) {
                self.p.push(name.span(), &key, "计数器名称与检查项编号的前缀相同，请换一个名称");
                continue;
            }
            let counter = counter.get_ref();
            let title = self.text(&counter.title, &format!("{key}.title"));
            let check = counter.check.get_ref().clone();
            if !checks.contains_key(&check) {
                self.p.push(counter.check.span(), format!("{key}.check"), format!("未知检查项“{check}”"));
            }
            let detail = match (&counter.detail_key, counter.detail_values.is_empty()) {
                (None, true) => None,
                (Some(k), false) => Some((
                    k.get_ref().clone(),
                    counter.detail_values.iter().map(|v| v.get_ref().clone()).collect(),
                )),
                (Some(k), true) => {
                    self.p.push(
                        k.span(),
                        format!("{key}.detail_values"),
                        "写了 detail_key 就须列出 detail_values",
                    );
                    None
                }
                (None, false) => {
                    self.p.push(
                        counter.detail_values[0].span(),
                        format!("{key}.detail_key"),
                        "写了 detail_values 就须写 detail_key",
                    );
                    None
                }
            };
            let within_days =
                counter.within_days.as_ref().and_then(|d| self.days(d, &format!("{key}.within_days")));
            counters.push(Counter { name: name_text, title, check, detail, within_days });
        }
        counters
    }

    fn source_policy(&mut self, raw: &RawRuleSet, checks: &BTreeMap<String, String>) -> SourcePolicy {
        let mut policy = default_sources();
        let Some(sources) = &raw.sources else { return policy };
        let sources = sources.get_ref();
        if let Some(statuses) = &sources.counted_statuses {
            policy.counted_statuses = statuses
                .iter()
                .enumerate()
                .filter_map(|(i, s)| self.status(s, &format!("sources.counted_statuses[{i}]"), false))
                .collect();
        }
        if let Some(precedence) = &sources.precedence {
            policy.precedence = self.sources(precedence, "sources.precedence");
        }
        for (check, list) in &sources.precedence_by_check {
            let key = format!("sources.precedence_by_check.\"{}\"", check.get_ref());
            if !checks.contains_key(check.get_ref()) {
                self.p.push(check.span(), &key, format!("未知检查项“{}”", check.get_ref()));
            }
            let list = self.sources(list, &key);
            policy.precedence_by_check.insert(check.get_ref().clone(), list);
        }
        policy.window_days = sources.window_days.as_ref().and_then(|d| self.days(d, "sources.window_days"));
        policy
    }

    fn components(&mut self, raw: &RawRuleSet) -> Vec<Component> {
        if raw.components.is_empty() {
            return vec![Component {
                id: "all".to_string(),
                title: "综合评价".to_string(),
                weight: Decimal::ONE,
                basis: ComponentBasis::Evidence { sources: ALL_SOURCES.to_vec(), uses_metrics: true },
            }];
        }
        let mut ids = BTreeSet::new();
        let mut components = Vec::new();
        let mut sum = Decimal::ZERO;
        for (i, c) in raw.components.iter().enumerate() {
            let key = format!("components[{i}]");
            let span = c.span();
            let c = c.get_ref();
            let id = self.item_id(&c.id, &format!("{key}.id"), &mut ids);
            let title = self.text(&c.title, &format!("{key}.title"));
            let weight = self.positive(&c.weight, &format!("{key}.weight")).unwrap_or_default();
            if weight > Decimal::ONE {
                self.p.push(
                    c.weight.span(),
                    format!("{key}.weight"),
                    "权重应在 0 到 1 之间，如 0.7 表示 70%",
                );
            }
            sum += weight;
            let basis = if c.self_claims {
                if !c.sources.is_empty() || c.uses_metrics.is_some() {
                    self.p.push(
                        span.clone(),
                        &key,
                        "单位自评（self_claims = true）不能同时写 sources 或 uses_metrics",
                    );
                }
                ComponentBasis::SelfClaims {
                    verified_by: self.sources(&c.verified_by, &format!("{key}.verified_by")),
                }
            } else {
                if c.sources.is_empty() {
                    self.p.push(
                        span.clone(),
                        &key,
                        "应写 sources（依据哪些来源的问题评分）或 self_claims = true",
                    );
                }
                if !c.verified_by.is_empty() {
                    self.p.push(span.clone(), &key, "verified_by 只用于单位自评（self_claims = true）");
                }
                ComponentBasis::Evidence {
                    sources: self.sources(&c.sources, &format!("{key}.sources")),
                    uses_metrics: c.uses_metrics.unwrap_or(true),
                }
            };
            components.push(Component { id, title, weight, basis });
        }
        if sum != Decimal::ONE {
            self.p.push(
                raw.components[0].span(),
                "components",
                format!("各评价方式权重之和应为 1，现为 {sum}"),
            );
        }
        components
    }

    fn line(
        &mut self,
        raw: &Spanned<RawLine>,
        key: &str,
        ids: &mut BTreeSet<String>,
        names: (&BTreeMap<String, String>, &[Counter], &BTreeMap<String, MetricSpec>),
    ) -> Option<Line> {
        let (checks, counters, metrics) = names;
        let span = raw.span();
        let l = raw.get_ref();
        let id = self.item_id(&l.id, &format!("{key}.id"), ids);
        let title = self.text(&l.title, &format!("{key}.title"));
        let when = match &l.when {
            Some(w) => Some(self.expr(w, &format!("{key}.when"), true)?),
            None => None,
        };
        let max = l.max.as_ref().and_then(|m| self.positive(m, &format!("{key}.max")));
        let modes =
            [l.check.is_some(), l.metric.is_some(), l.formula.is_some()].iter().filter(|b| **b).count();
        if modes > 1 {
            self.p.push(span, key, "check、metric、formula 只能选一种计分方式");
            return None;
        }
        let rule = if let Some(check) = &l.check {
            let name = check.get_ref();
            if !checks.contains_key(name) && !counters.iter().any(|c| &c.name == name) {
                self.p.push(check.span(), format!("{key}.check"), format!("未知检查项或计数器“{name}”"));
            }
            if l.points.is_some() || !l.thresholds.is_empty() {
                self.p.push(
                    span.clone(),
                    key,
                    "按问题计分（check）只写 per_finding，不写 points 或 thresholds",
                );
            }
            let Some(per) = &l.per_finding else {
                self.p.push(span, key, "按问题计分（check）须写 per_finding（每个问题的分值）");
                return None;
            };
            LineRule::PerFinding {
                count: name.clone(),
                per: self.positive(per, &format!("{key}.per_finding"))?,
            }
        } else if let Some(metric) = &l.metric {
            if !metrics.contains_key(metric.get_ref()) {
                self.p.push(
                    metric.span(),
                    format!("{key}.metric"),
                    format!("未声明的指标数据“{}”，请先在 [metrics] 中声明", metric.get_ref()),
                );
            }
            if l.thresholds.is_empty() {
                self.p.push(span, key, "按指标数据计分（metric）须写 thresholds（分档）");
                return None;
            }
            let mut bands: Vec<Band> = Vec::new();
            for (i, band) in l.thresholds.iter().enumerate() {
                let bkey = format!("{key}.thresholds[{i}]");
                let b = band.get_ref();
                let at_least = self.num(&b.at_least, &format!("{bkey}.at_least"))?;
                let points = self.non_negative(&b.points, &format!("{bkey}.points"))?;
                if bands.last().is_some_and(|prev| prev.at_least >= at_least) {
                    self.p.push(band.span(), &bkey, "各档 at_least 应从小到大排列且不重复");
                }
                bands.push(Band { at_least, points });
            }
            LineRule::Thresholds { metric: metric.get_ref().clone(), bands }
        } else if let Some(formula) = &l.formula {
            if l.points.is_some() || l.per_finding.is_some() {
                self.p.push(span.clone(), key, "按公式计分（formula）不写 points 或 per_finding");
            }
            LineRule::Formula(self.expr(formula, &format!("{key}.formula"), false)?)
        } else if let Some(points) = &l.points {
            if when.is_none() {
                self.p.push(span, key, "固定分值（points）须配合条件 when 使用");
                return None;
            }
            LineRule::Fixed(self.positive(points, &format!("{key}.points"))?)
        } else {
            self.p.push(
                span,
                key,
                "未指定计分方式：请写 check + per_finding、metric + thresholds、formula 或 when + points 之一",
            );
            return None;
        };
        Some(Line { id, title, when, max, rule })
    }

    fn indicators(
        &mut self,
        raw: &RawRuleSet,
        checks: &BTreeMap<String, String>,
        counters: &[Counter],
        metrics: &BTreeMap<String, MetricSpec>,
        meta: &Meta,
    ) -> Vec<Indicator> {
        let mut ids = BTreeSet::new();
        let mut indicators = Vec::new();
        let mut sum = Decimal::ZERO;
        if raw.indicators.is_empty() {
            self.p.push(raw.rule_set.span(), "indicators", "规则集至少应有一个指标（[[indicators]]）");
        }
        for (i, ind) in raw.indicators.iter().enumerate() {
            let key = format!("indicators[{i}]");
            let ind = ind.get_ref();
            let id = self.item_id(&ind.id, &format!("{key}.id"), &mut ids);
            let title = self.text(&ind.title, &format!("{key}.title"));
            let points = self.positive(&ind.points, &format!("{key}.points")).unwrap_or_default();
            sum += points;
            let not_applicable_when = ind
                .not_applicable_when
                .as_ref()
                .and_then(|w| self.expr(w, &format!("{key}.not_applicable_when"), true));
            let mut line_ids = BTreeSet::new();
            let mut lines = Vec::new();
            for (j, line) in ind.deductions.iter().enumerate() {
                let lkey = format!("{key}.deductions[{j}]");
                if let Some(l) = self.line(line, &lkey, &mut line_ids, (checks, counters, metrics)) {
                    if let (Some(max), Some(raw_max)) = (l.max, line.get_ref().max.as_ref())
                        && max > points
                    {
                        self.p.push(
                            raw_max.span(),
                            format!("{lkey}.max"),
                            format!("单项扣分上限 {max} 超过所属指标分值 {points}"),
                        );
                    }
                    lines.push(l);
                }
            }
            indicators.push(Indicator { id, title, points, not_applicable_when, lines });
        }
        if !raw.indicators.is_empty() && sum != meta.points {
            self.p.push(
                raw.rule_set.get_ref().points.span(),
                "rule_set.points",
                format!("各指标分值之和为 {sum}，与总分 {} 不符", meta.points),
            );
        }
        indicators
    }

    fn bonus(
        &mut self,
        raw: &Spanned<RawBonus>,
        checks: &BTreeMap<String, String>,
        counters: &[Counter],
        metrics: &BTreeMap<String, MetricSpec>,
        meta: &Meta,
    ) -> Bonus {
        let b = raw.get_ref();
        let above = self.non_negative(&b.above, "bonus.above").unwrap_or(meta.points);
        if above >= meta.points {
            self.p.push(
                b.above.span(),
                "bonus.above",
                format!("加分门槛 {above} 应低于总分 {}", meta.points),
            );
        }
        let max = self.positive(&b.max, "bonus.max").unwrap_or_default();
        let mut ids = BTreeSet::new();
        let mut items = Vec::new();
        if b.items.is_empty() {
            self.p.push(raw.span(), "bonus.items", "加分项至少应有一项（[[bonus.items]]）");
        }
        for (i, item) in b.items.iter().enumerate() {
            let key = format!("bonus.items[{i}]");
            if let Some(l) = self.line(item, &key, &mut ids, (checks, counters, metrics)) {
                if let (Some(m), Some(raw_max)) = (l.max, item.get_ref().max.as_ref())
                    && m > max
                {
                    self.p.push(
                        raw_max.span(),
                        format!("{key}.max"),
                        format!("单项加分上限 {m} 超过加分总上限 {max}"),
                    );
                }
                items.push(l);
            }
        }
        Bonus { above, max, items }
    }

    /// The `[unchecked]` section: each key a check that records missing evidence (the
    /// vocabulary's `*.unchecked`, or a `field.*` check of this rule set), each value the
    /// indicators that score zero while it stands.
    fn unchecked(
        &mut self,
        raw: &RawRuleSet,
        checks: &BTreeMap<String, String>,
        indicators: &[Indicator],
    ) -> Vec<UncheckedRule> {
        let mut rules = Vec::new();
        for (check, list) in &raw.unchecked {
            let name = check.get_ref();
            let key = format!("unchecked.\"{name}\"");
            if !checks.contains_key(name) {
                self.p.push(check.span(), &key, format!("未知检查项“{name}”"));
                continue;
            }
            if check_info(name).is_some() && !is_missing_evidence(name) {
                self.p.push(
                    check.span(),
                    &key,
                    format!(
                        "检查项“{name}”不表示证据缺失；此处只能写 {} 或本规则集自定义的 field.* 检查项",
                        MISSING_EVIDENCE_CHECKS.join("、")
                    ),
                );
                continue;
            }
            if list.is_empty() {
                self.p.push(check.span(), &key, "应至少列出一个指标编号");
            }
            let mut zeroed: Vec<String> = Vec::new();
            for (i, id) in list.iter().enumerate() {
                let ikey = format!("{key}[{i}]");
                let id_text = id.get_ref();
                if !indicators.iter().any(|ind| &ind.id == id_text) {
                    self.p.push(
                        id.span(),
                        &ikey,
                        format!("未知指标“{id_text}”（应为 [[indicators]] 中的 id）"),
                    );
                } else if zeroed.contains(id_text) {
                    self.p.push(id.span(), &ikey, format!("指标“{id_text}”重复"));
                } else {
                    zeroed.push(id_text.clone());
                }
            }
            rules.push(UncheckedRule { check: name.clone(), indicators: zeroed });
        }
        rules
    }

    fn grades(&mut self, raw: &RawRuleSet, meta: &Meta, bonus: Option<&Bonus>) -> Vec<Grade> {
        let top = meta.points + bonus.map_or(Decimal::ZERO, |b| b.max);
        let mut grades: Vec<Grade> = Vec::new();
        for (i, g) in raw.grades.iter().enumerate() {
            let key = format!("grades[{i}]");
            let name = self.text(&g.get_ref().name, &format!("{key}.name"));
            let Some(min) = self.non_negative(&g.get_ref().min, &format!("{key}.min")) else { continue };
            if min > top {
                self.p.push(g.span(), &key, format!("等级下限 {min} 超过可能的最高分 {top}"));
            }
            if grades.iter().any(|o| o.name == name) {
                self.p.push(g.span(), &key, format!("等级名称“{name}”重复"));
            }
            if grades.iter().any(|o| o.min == min) {
                self.p.push(g.span(), &key, format!("等级下限 {min} 与其他等级重复"));
            }
            grades.push(Grade { name, min });
        }
        grades.sort_by_key(|g| std::cmp::Reverse(g.min));
        grades
    }

    fn examples(&mut self, raw: &RawRuleSet, cx: &ExampleContext<'_>) -> Vec<Example> {
        let mut examples = Vec::new();
        for (i, ex) in raw.examples.iter().enumerate() {
            let key = format!("examples[{i}]");
            let e = ex.get_ref();
            let name = self.text(&e.name, &format!("{key}.name"));
            let kind = match &e.kind {
                None => UnitKind::Department,
                Some(k) => match UnitKind::from_str(k.get_ref()) {
                    Ok(kind) => kind,
                    Err(err) => {
                        self.p.push(k.span(), format!("{key}.kind"), err.to_string());
                        UnitKind::Department
                    }
                },
            };
            let as_of = e
                .as_of
                .as_ref()
                .and_then(|d| self.date(d, &format!("{key}.as_of")))
                .unwrap_or(cx.meta.in_force.from);
            let expect_total = self.num(&e.expect_total, &format!("{key}.expect_total")).unwrap_or_default();
            let expect_grade = e.expect_grade.as_ref().map(|g| {
                if !cx.grades.iter().any(|o| &o.name == g.get_ref()) {
                    self.p.push(
                        g.span(),
                        format!("{key}.expect_grade"),
                        format!("未定义的等级“{}”", g.get_ref()),
                    );
                }
                g.get_ref().clone()
            });
            let expect_veto = e.expect_veto.as_ref().map(|v| {
                if !cx.vetoes.iter().any(|o| &o.id == v.get_ref()) {
                    self.p.push(
                        v.span(),
                        format!("{key}.expect_veto"),
                        format!("未定义的否决项“{}”", v.get_ref()),
                    );
                }
                v.get_ref().clone()
            });
            let mut metrics = BTreeMap::new();
            for (m, value) in &e.metrics {
                let mkey = format!("{key}.metrics.\"{}\"", m.get_ref());
                if !cx.metrics.contains_key(m.get_ref()) {
                    self.p.push(m.span(), &mkey, format!("未声明的指标数据“{}”", m.get_ref()));
                }
                if let Some(v) = self.num(value, &mkey) {
                    metrics.insert(m.get_ref().clone(), v);
                }
            }
            let mut claims = BTreeMap::new();
            for (item, value) in &e.claims {
                let ckey = format!("{key}.claims.{}", item.get_ref());
                if !cx.indicators.iter().any(|ind| &ind.id == item.get_ref()) {
                    self.p.push(item.span(), &ckey, format!("自评项“{}”不是指标编号", item.get_ref()));
                }
                if let Some(v) = self.num(value, &ckey) {
                    claims.insert(item.get_ref().clone(), v);
                }
            }
            let mut findings = Vec::new();
            for (j, f) in e.findings.iter().enumerate() {
                let fkey = format!("{key}.findings[{j}]");
                let f = f.get_ref();
                if !cx.checks.contains_key(f.check.get_ref()) {
                    self.p.push(
                        f.check.span(),
                        format!("{fkey}.check"),
                        format!("未知检查项“{}”", f.check.get_ref()),
                    );
                }
                let source = match &f.source {
                    None => Some(Source::Crawler),
                    Some(s) => self.source(s, &format!("{fkey}.source")),
                };
                let status = match &f.status {
                    None => Some(FindingStatus::Open),
                    Some(s) => self.status(s, &format!("{fkey}.status"), true),
                };
                let count = match &f.count {
                    None => Some(1),
                    Some(c) => match u32::try_from(*c.get_ref()) {
                        Ok(n) if (1..=1000).contains(&n) => Some(n),
                        _ => {
                            self.p.push(c.span(), format!("{fkey}.count"), "count 应为 1 到 1000 的整数");
                            None
                        }
                    },
                };
                let observed = f
                    .observed
                    .as_ref()
                    .and_then(|d| self.date(d, &format!("{fkey}.observed")))
                    .unwrap_or(as_of);
                let detail = f
                    .detail
                    .as_ref()
                    .and_then(|t| serde_json::to_value(t).ok())
                    .unwrap_or(serde_json::Value::Null);
                if let (Some(source), Some(status), Some(count)) = (source, status, count) {
                    findings.push(ExampleFinding {
                        check: f.check.get_ref().clone(),
                        source,
                        status,
                        count,
                        observed,
                        url: f.url.as_ref().map(|u| u.get_ref().clone()),
                        detail,
                    });
                }
            }
            examples.push(Example {
                name,
                kind,
                as_of,
                expect_total,
                expect_grade,
                expect_veto,
                metrics,
                claims,
                findings,
            });
        }
        examples
    }
}

struct ExampleContext<'a> {
    meta: &'a Meta,
    grades: &'a [Grade],
    vetoes: &'a [Veto],
    indicators: &'a [Indicator],
    checks: &'a BTreeMap<String, String>,
    metrics: &'a BTreeMap<String, MetricSpec>,
}
