//! The annual report a demo unit's site publishes: the complete sample report in the 2021
//! national format, its narrative made the unit's own so that the city-wide near-duplicate check
//! (`report.stale_copy`) finds no copies among 268 units, with the unit's planned defect applied.
//!
//! The sample has six narratives; units sharing one are told apart by three more sentences, drawn
//! from three pools of seven so that any two units of the same narrative share at most one of
//! them (the pairs `(a, b)` with `c = a + b mod 7` differ in at least two places).

use crate::crawl::report::sample::{Block, SampleReport};
use crate::demo::plan::ReportDefect;

/// How the unit organised the work.
const ORGANISATION: [&str; 7] = [
    "年内召开政务公开专题会议，研究部署信息公开重点任务，明确分管领导和联络员的职责分工。",
    "建立信息发布三级审核制度，科室初审、办公室复审、分管领导终审，确保发布内容准确规范。",
    "将政务公开纳入科室年度绩效考核，考核结果与评先评优挂钩，层层压实公开责任。",
    "组织全体干部学习修订后的条例，邀请专家讲解依申请公开办理要点，提升依法公开意识。",
    "梳理本单位权责清单和公共服务事项清单，逐项明确公开主体、公开时限和公开方式。",
    "聘请法律顾问参与重要文件公开属性审查，对不予公开的信息逐件说明理由并立卷归档。",
    "完善网站内容保障机制，落实信息员每日巡查制度，发现错链断链当日整改到位。",
];

/// How it reached the public.
const CHANNELS: [&str; 7] = [
    "通过政务微信公众号同步推送重要政策，全年推送图文信息的阅读量较上年明显增长。",
    "在办事大厅设置政府信息查阅点，配备查阅终端和纸质资料，方便群众就近查询。",
    "开展政府开放日活动，邀请人大代表、政协委员和群众代表走进机关，面对面听取意见建议。",
    "对涉及群众切身利益的重大决策事项，事先公开草案征求意见，并反馈意见采纳情况。",
    "围绕社会关注热点，由主要负责人参加在线访谈，现场回应网民提出的问题和诉求。",
    "按季度公开财政资金使用情况和重点项目进展，主动接受人大监督、审计监督和社会监督。",
    "制作政策问答和一图读懂等通俗解读材料，在基层服务站点和村居公告栏免费发放。",
];

/// What it will do next.
const NEXT: [&str; 7] = [
    "下一步将继续推进基层政务公开标准化规范化建设，切实提升公开质量和实际效果。",
    "今后将加强与上级主管部门的沟通衔接，及时调整公开目录，做到应公开尽公开。",
    "明年将重点完善依申请公开答复的说理部分，提高答复文书的规范化水平。",
    "计划开展一次公开内容全面自查，对发现的问题建立台账，明确时限逐项整改。",
    "将进一步拓展新媒体公开渠道，探索以短视频和直播形式解读政策文件。",
    "还将加强对下属单位信息公开工作的指导和督促，按季度通报工作开展情况。",
    "将强化公开工作人员培训，每半年至少组织一次集中业务学习和案例研讨。",
];

/// The report `unit` (registry position `index`) publishes for `year`, with `defect` applied.
pub(in crate::demo) fn unit_report(
    unit: &str,
    year: i32,
    index: usize,
    defect: Option<ReportDefect>,
) -> SampleReport {
    let mut report = SampleReport::complete_variant(unit, year, index);
    let n = index / 6;
    let (a, b) = (n % 7, (n / 7) % 7);
    let c = (a + b) % 7;
    insert_before(&mut report, "主动公开政府信息情况", format!("{}{}", ORGANISATION[a], CHANNELS[b]));
    insert_before(&mut report, "其他需要报告的事项", NEXT[c].to_owned());
    match defect {
        None => report,
        Some(ReportDefect::SectionMissing) => report.without_section("存在的主要问题"),
        // Five more requests received from natural persons than the rows account for.
        Some(ReportDefect::TableInconsistent) => report.with_row("本年新收", &[25, 3, 0, 1, 1, 0, 30]),
    }
}

/// Puts `paragraph` just before the heading containing `heading` (at the end without one).
fn insert_before(report: &mut SampleReport, heading: &str, paragraph: String) {
    let at = report
        .blocks
        .iter()
        .position(|b| matches!(b, Block::Heading(h) if h.contains(heading)))
        .unwrap_or(report.blocks.len());
    report.blocks.insert(at, Block::Paragraph(paragraph));
}
