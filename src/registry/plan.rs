//! Deciding what an import changes: which units are new, which changed, which are the same,
//! and whether the parent tree that results is sound.

use std::collections::{HashMap, HashSet};

use super::{RegistryFile, Rejected, RowProblem};
use crate::model::{OrgCode, Unit};

/// What importing a registry file will do to the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportPlan {
    /// Units in the file whose code the store does not have yet.
    pub added: Vec<Unit>,
    /// Units in the file that differ from the stored unit with the same code.
    pub updated: Vec<Unit>,
    /// Units in the file identical to their stored copy.
    pub unchanged: usize,
    /// Units in the store that the file does not mention. Import never deletes them.
    pub not_in_file: usize,
}

impl ImportPlan {
    /// The units to write, new and changed.
    pub fn writes(&self) -> impl Iterator<Item = &Unit> {
        self.added.iter().chain(&self.updated)
    }
}

/// Compares the file with the units already stored and checks the parent links of the
/// resulting registry: every parent exists (in the file or the store) and no unit is its own
/// ancestor. Units in the file replace stored units with the same code. The file's own row
/// problems are reported together with these, so one run shows everything to fix.
pub fn plan_import(file: &RegistryFile, existing: &[Unit]) -> Result<ImportPlan, Rejected> {
    let stored: HashMap<&OrgCode, &Unit> = existing.iter().map(|u| (&u.code, u)).collect();
    let in_file: HashMap<&OrgCode, u64> = file.rows.iter().map(|r| (&r.unit.code, r.line)).collect();

    // The registry after the import: file rows override stored ones.
    let mut parent_of: HashMap<&OrgCode, Option<&OrgCode>> =
        existing.iter().map(|u| (&u.code, u.parent_code.as_ref())).collect();
    for row in &file.rows {
        parent_of.insert(&row.unit.code, row.unit.parent_code.as_ref());
    }

    let mut problems = file.problems.clone();
    for row in &file.rows {
        if let Some(parent) = &row.unit.parent_code
            && !parent_of.contains_key(parent)
            && !file.codes_with_problems.contains(parent)
        {
            problems.push(RowProblem::new(
                row.line,
                "parent_code",
                format!("上级单位 {parent} 既不在本文件中，也未在系统中登记"),
            ));
        }
    }
    problems.extend(cycle_problems(file, &parent_of, &in_file));
    if !problems.is_empty() {
        return Err(Rejected::sorted(problems));
    }

    let mut plan = ImportPlan::default();
    for row in &file.rows {
        match stored.get(&row.unit.code) {
            None => plan.added.push(row.unit.clone()),
            Some(old) if **old == row.unit => plan.unchanged += 1,
            Some(_) => plan.updated.push(row.unit.clone()),
        }
    }
    plan.not_in_file = existing.iter().filter(|u| !in_file.contains_key(&u.code)).count();
    Ok(plan)
}

/// Finds every cycle in the parent graph that passes through a unit of the file, and
/// reports it once, on the line of its first unit in the file.
fn cycle_problems(
    file: &RegistryFile,
    parent_of: &HashMap<&OrgCode, Option<&OrgCode>>,
    in_file: &HashMap<&OrgCode, u64>,
) -> Vec<RowProblem> {
    let mut problems = Vec::new();
    // Units known to reach a root (or a missing parent) without a cycle.
    let mut settled: HashSet<&OrgCode> = HashSet::new();
    let mut reported: HashSet<&OrgCode> = HashSet::new();
    for row in &file.rows {
        let mut path: Vec<&OrgCode> = Vec::new();
        let mut on_path: HashMap<&OrgCode, usize> = HashMap::new();
        let mut current = Some(&row.unit.code);
        while let Some(code) = current {
            if settled.contains(code) {
                break;
            }
            if let Some(&start) = on_path.get(code) {
                let cycle = &path[start..];
                if cycle.iter().all(|c| !reported.contains(c)) {
                    reported.extend(cycle.iter().copied());
                    let line = cycle.iter().filter_map(|c| in_file.get(c)).min().copied().unwrap_or(row.line);
                    let chain: Vec<String> = cycle
                        .iter()
                        .chain(std::iter::once(&cycle[0]))
                        .map(std::string::ToString::to_string)
                        .collect();
                    problems.push(RowProblem::new(
                        line,
                        "parent_code",
                        format!("上级单位关系成环：{}", chain.join(" → ")),
                    ));
                }
                break;
            }
            on_path.insert(code, path.len());
            path.push(code);
            current = parent_of.get(code).copied().flatten();
        }
        settled.extend(path);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::read_registry;

    const HEADER: &str = "code,name,kind,parent_code,website,catalogue_url,email\n";

    fn file(rows: &str) -> RegistryFile {
        let file = read_registry(format!("{HEADER}{rows}").as_bytes()).expect("readable file");
        assert!(file.problems.is_empty(), "{:?}", file.problems);
        file
    }

    // Real published codes (their check characters verify): Tencent, Alibaba, Huawei.
    const A: &str = "9144030071526726XG";
    const B: &str = "91330100716105852F";
    const C: &str = "914403001922038216";

    #[test]
    fn two_unit_cycle_is_reported_once() {
        let f = file(&format!(
            "{A},甲,department,{B},http://a.gov.cn,,\n{B},乙,department,{A},http://b.gov.cn,,\n"
        ));
        let problems = plan_import(&f, &[]).expect_err("cycle").0;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 2);
        assert!(problems[0].message.contains(A) && problems[0].message.contains(B));
    }

    #[test]
    fn cycle_through_the_store_is_found() {
        // The store says B's parent is A; the file makes A's parent B.
        let stored =
            file(&format!("{A},甲,department,,http://a.gov.cn,,\n{B},乙,department,{A},http://b.gov.cn,,\n"));
        let existing: Vec<Unit> = stored.rows.into_iter().map(|r| r.unit).collect();
        let f = file(&format!("{A},甲,department,{B},http://a.gov.cn,,\n"));
        let problems = plan_import(&f, &existing).expect_err("cycle").0;
        assert_eq!(problems[0].field, "parent_code");
        assert_eq!(problems[0].line, 2);
    }

    #[test]
    fn parent_may_come_from_the_store_or_later_in_the_file() {
        let stored = file(&format!("{A},甲,department,,http://a.gov.cn,,\n"));
        let existing: Vec<Unit> = stored.rows.into_iter().map(|r| r.unit).collect();
        let f = file(&format!(
            "{B},乙,institution,{A},http://b.gov.cn,,\n{C},丙,institution,{B},http://c.gov.cn,,\n"
        ));
        let plan = plan_import(&f, &existing).expect("parents exist");
        assert_eq!(plan.added.len(), 2);
        assert_eq!(plan.not_in_file, 1);
    }

    #[test]
    fn missing_parent_names_the_line() {
        let f = file(&format!(
            "{A},甲,department,,http://a.gov.cn,,\n{B},乙,institution,{C},http://b.gov.cn,,\n"
        ));
        let problems = plan_import(&f, &[]).expect_err("missing parent").0;
        assert_eq!(
            problems,
            vec![RowProblem::new(3, "parent_code", format!("上级单位 {C} 既不在本文件中，也未在系统中登记"))]
        );
    }

    #[test]
    fn reimport_counts_added_updated_unchanged() {
        let first =
            file(&format!("{A},甲,department,,http://a.gov.cn,,\n{B},乙,department,,http://b.gov.cn,,\n"));
        let existing: Vec<Unit> = first.rows.into_iter().map(|r| r.unit).collect();
        let second = file(&format!(
            "{A},甲,department,,http://a.gov.cn,,\n{B},乙局,department,,http://b.gov.cn,,\n{C},丙,district,,http://c.gov.cn,,\n"
        ));
        let plan = plan_import(&second, &existing).expect("valid");
        assert_eq!((plan.added.len(), plan.updated.len(), plan.unchanged), (1, 1, 1));
        assert_eq!(plan.updated[0].name, "乙局");
    }
}
