//! Conditions and formulas, evaluated by zen-expression on `Decimal`.
//!
//! We do not write a parser: zen-expression compiles the text, and we read the compiled
//! bytecode back to learn which variables an expression uses. That lets validation refuse
//! a misspelt name (`count.home.stael`) at parse time, and lets explanations cite the
//! values that made a condition true. The context is built from `Decimal`s directly
//! (`Variable::Number`), never from JSON or binary floats.

use std::cell::OnceCell;
use std::sync::Arc;

use rust_decimal::Decimal;
use zen_expression::compiler::{FetchFastTarget, Opcode};
use zen_expression::expression::Standard;
use zen_expression::functions::{FunctionKind, InternalFunction};
use zen_expression::variable::Variable;
use zen_expression::{Expression, compile_expression};

/// A compiled expression with the variable names it reads.
#[derive(Debug, Clone)]
pub(super) struct Expr {
    source: Arc<str>,
    compiled: Expression<Standard>,
    refs: Vec<String>,
}

/// A value in an evaluation context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    Number(Decimal),
    Text(String),
}

/// One variable of an [`Env`]: its dotted name, value, and whether it goes into the
/// zen-expression object (a variable no expression of the rule set reads is left out of it,
/// but is still there for citations).
#[derive(Debug, Clone)]
pub(super) struct Binding {
    pub name: Arc<str>,
    pub value: Value,
    pub read: bool,
}

/// The variables an expression may read, by dotted name (`count.content.spam`,
/// `metric.site.failure_ratio`, `kind`).
///
/// The nested zen object is built once, on the first evaluation, and shared by every
/// expression evaluated in this env: zen-expression copies on write, it never changes the
/// object it is given. Any `set_*` drops the built object.
#[derive(Debug, Default)]
pub(super) struct Env {
    /// Sorted by name, unique.
    values: Vec<Binding>,
    variable: OnceCell<Variable>,
}

impl Env {
    /// An env from bindings already sorted by name and unique (a rule set's layout order).
    pub(super) fn from_sorted(values: Vec<Binding>) -> Self {
        debug_assert!(values.windows(2).all(|w| w[0].name < w[1].name), "bindings must be sorted and unique");
        Self { values, variable: OnceCell::new() }
    }

    pub(super) fn set_number(&mut self, name: impl Into<String>, value: Decimal) {
        self.set(name.into(), Value::Number(value));
    }

    pub(super) fn set_text(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.set(name.into(), Value::Text(value.into()));
    }

    fn set(&mut self, name: String, value: Value) {
        self.variable = OnceCell::new();
        match self.values.binary_search_by(|b| (*b.name).cmp(name.as_str())) {
            Ok(i) => self.values[i] = Binding { name: Arc::from(name), value, read: true },
            Err(i) => self.values.insert(i, Binding { name: Arc::from(name), value, read: true }),
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&Value> {
        let i = self.values.binary_search_by(|b| (*b.name).cmp(name)).ok()?;
        Some(&self.values[i].value)
    }

    /// The nested zen object: `count.content.spam = 2` becomes `{count: {content: {spam: 2}}}`.
    /// Built on first use, then shared (a cheap reference-counted clone).
    fn to_variable(&self) -> Variable {
        self.variable
            .get_or_init(|| {
                let root = Variable::empty_object();
                for binding in self.values.iter().filter(|b| b.read) {
                    let variable = match &binding.value {
                        Value::Number(n) => Variable::Number(*n),
                        Value::Text(t) => Variable::String(Variable::key(t)),
                    };
                    let _ = root.dot_insert(&binding.name, variable);
                }
                root
            })
            .shallow_clone()
    }
}

/// Why an expression could not be evaluated. Messages are Chinese: they end up in
/// explanations and `rules check` output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum EvalError {
    #[error("表达式求值失败：{0}")]
    Failed(String),
    #[error("条件表达式的结果应为真或假，实际为{0}")]
    NotBool(&'static str),
    #[error("公式的结果应为数字，实际为{0}")]
    NotNumber(&'static str),
}

impl Expr {
    /// Compiles an expression; the error text (Chinese) is for the file's author.
    pub(super) fn compile(source: &str) -> Result<Self, String> {
        if source.trim().is_empty() {
            return Err("表达式为空".to_string());
        }
        let compiled = compile_expression(source).map_err(|e| format!("表达式无法解析：{e}"))?;
        let mut refs = Vec::new();
        for op in compiled.bytecode().iter() {
            match op {
                Opcode::FetchFast(path) => {
                    // A path starting at `Begin` is a variable; other paths start at `$root`.
                    let mut parts = Vec::new();
                    let mut from_variable = false;
                    for target in path {
                        match target {
                            FetchFastTarget::Begin => from_variable = true,
                            FetchFastTarget::Root => {
                                return Err("表达式不支持 $root，请直接写变量名".to_string());
                            }
                            FetchFastTarget::String(s) => parts.push(s.to_string()),
                            FetchFastTarget::Number(_) => {
                                return Err("变量名中不能使用数字下标".to_string());
                            }
                        }
                    }
                    if from_variable && !parts.is_empty() {
                        refs.push(parts.join("."));
                    }
                }
                Opcode::FetchEnv(name) => refs.push(name.to_string()),
                Opcode::FetchRootEnv => return Err("表达式不支持 $root，请直接写变量名".to_string()),
                // A score must be reproducible from (rule set, evidence, as-of day): no
                // random numbers and no reading of the clock.
                Opcode::CallFunction { kind, .. } => {
                    let banned = match kind {
                        FunctionKind::Internal(f) => {
                            matches!(f, InternalFunction::Rand | InternalFunction::Date)
                        }
                        FunctionKind::Deprecated(_) => true,
                        FunctionKind::Closure(_) => false,
                    };
                    if banned {
                        return Err(format!("不能使用随机数或日期时间函数 {kind}：得分必须可以重现"));
                    }
                }
                Opcode::CallMethod { kind, .. } => {
                    return Err(format!("不能使用日期时间方法 {kind}：得分必须可以重现"));
                }
                _ => {}
            }
        }
        refs.sort();
        refs.dedup();
        Ok(Self { source: Arc::from(source), compiled, refs })
    }

    pub(super) fn source(&self) -> &str {
        &self.source
    }

    /// The dotted variable names the expression reads, sorted and unique. A name read
    /// through brackets (`count["x"]`) appears only as its first part.
    pub(super) fn refs(&self) -> &[String] {
        &self.refs
    }

    fn run(&self, env: &Env) -> Result<Variable, EvalError> {
        self.compiled.evaluate(env.to_variable()).map_err(|e| EvalError::Failed(e.to_string()))
    }

    pub(super) fn eval_bool(&self, env: &Env) -> Result<bool, EvalError> {
        let value = self.run(env)?;
        value.as_bool().ok_or(EvalError::NotBool(type_zh(&value)))
    }

    pub(super) fn eval_number(&self, env: &Env) -> Result<Decimal, EvalError> {
        let value = self.run(env)?;
        value.as_number().ok_or(EvalError::NotNumber(type_zh(&value)))
    }
}

/// The type name `type_zh` gives a null result (a missing variable, or a division by zero).
pub(super) const NULL_ZH: &str = "空值（变量不存在或除以零？）";

fn type_zh(value: &Variable) -> &'static str {
    match value {
        Variable::Null => NULL_ZH,
        Variable::Bool(_) => "真/假",
        Variable::Number(_) => "数字",
        Variable::String(_) => "文本",
        Variable::Array(_) => "列表",
        Variable::Object(_) => "对象（变量名不完整？）",
        Variable::Dynamic(_) => "其他类型",
    }
}

// The rule set is shared between threads by the web server and the CLI's workers.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Expr>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn env() -> Env {
        let mut env = Env::default();
        env.set_number("count.content.spam", dec!(2));
        env.set_number("count.home.stale", dec!(0));
        env.set_number("metric.site.failure_ratio", dec!(0.05));
        env.set_text("kind", "district");
        env
    }

    #[test]
    fn dotted_names_are_collected_from_the_bytecode() {
        let e =
            Expr::compile("metric.site.failure_ratio >= 0.05 and count.home.stale > 0").expect("compiles");
        assert_eq!(e.refs(), ["count.home.stale", "metric.site.failure_ratio"]);
        assert_eq!(e.eval_bool(&env()), Ok(false));
    }

    #[test]
    fn decimal_arithmetic_is_exact() {
        let e = Expr::compile("metric.site.failure_ratio * 3 + 0.1 + 0.2").expect("compiles");
        assert_eq!(e.eval_number(&env()), Ok(dec!(0.45)));
        let e = Expr::compile("min([count.content.spam * 0.5, 5])").expect("compiles");
        assert_eq!(e.eval_number(&env()), Ok(dec!(1.0)));
    }

    #[test]
    fn text_comparison_and_type_errors() {
        let e = Expr::compile("kind == \"district\"").expect("compiles");
        assert_eq!(e.eval_bool(&env()), Ok(true));
        assert!(matches!(e.eval_number(&env()), Err(EvalError::NotNumber(_))));
    }

    #[test]
    fn the_shared_object_is_never_changed_by_an_evaluation_and_follows_every_set() {
        let mut env = env();
        let read = Expr::compile("count.content.spam").expect("compiles");
        let assign = Expr::compile("count.content.spam = count.content.spam + 10; count.content.spam")
            .expect("assignments compile");
        assert_eq!(assign.eval_number(&env), Ok(dec!(12)));
        assert_eq!(assign.eval_number(&env), Ok(dec!(12)), "the first run's assignment leaked");
        assert_eq!(read.eval_number(&env), Ok(dec!(2)));
        env.set_number("count.content.spam", dec!(7));
        assert_eq!(read.eval_number(&env), Ok(dec!(7)), "a stale object was evaluated");
        env.set_number("count.content.new", dec!(1));
        let new = Expr::compile("count.content.new + count.content.spam").expect("compiles");
        assert_eq!(new.eval_number(&env), Ok(dec!(8)));
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(Expr::compile("count.home.stale >=").is_err());
        assert!(Expr::compile("(1 + ").is_err());
        assert!(Expr::compile("  ").is_err());
        assert!(Expr::compile("rand(10) > 5").is_err());
        assert!(Expr::compile("d() > d('2020-01-01')").is_err());
        assert!(Expr::compile("date('now') > 1").is_err());
    }
}
