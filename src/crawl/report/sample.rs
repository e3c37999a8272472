//! A complete annual report in the 2021 national format, for fixtures: every section, the three
//! tables with numbers that satisfy every rule, a publication date. Tests edit it into the
//! defective reports (a section dropped, a number changed, last year's report republished);
//! the same report renders as an HTML page and as a PDF (with krilla, the notices' renderer).

use std::path::Path;

use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};

/// One block of a report, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A section heading, numbering included (e.g. 一、总体情况).
    Heading(String),
    /// A paragraph of narrative.
    Paragraph(String),
    /// A table row: its label and its numbers as written.
    Row(String, Vec<String>),
    /// A table's header row (labels only).
    Header(Vec<String>),
}

/// A report as blocks, with its title and the date its page shows.
#[derive(Debug, Clone)]
pub struct SampleReport {
    /// The report's title, e.g. 某某局2025年政府信息公开工作年度报告.
    pub title: String,
    /// The publication date its page shows, `YYYY-MM-DD`.
    pub published: String,
    /// The report's body, in order.
    pub blocks: Vec<Block>,
}

fn row(label: &str, numbers: &[u32]) -> Block {
    Block::Row(label.to_owned(), numbers.iter().map(u32::to_string).collect())
}

fn text(s: &str) -> Block {
    Block::Paragraph(s.to_owned())
}

fn heading(s: &str) -> Block {
    Block::Heading(s.to_owned())
}

/// What units did in the year, one per variant: reports of different variants are not
/// near-duplicates of each other.
const WORK: [&str; 6] = [
    "一是加强组织领导，调整政务公开工作领导小组，明确专人负责日常工作；二是完善制度建设，\
     修订信息发布保密审查办法；三是加强平台建设，政府信息公开专栏栏目设置与内容更新进一步规范。",
    "全年围绕优化营商环境，集中公开涉企收费清单、惠企政策汇编和行政执法结果，\
     对新出台的政策文件同步发布图文解读，并在政务服务大厅设置政策咨询窗口。",
    "本年度重点推进重大建设项目批准和实施领域信息公开，按项目逐一公开审批、招标、施工和验收信息，\
     并在门户网站开设专题，方便群众集中查询。",
    "围绕教育、医疗、养老等民生领域，细化公开标准目录，及时发布招生入学、医保报销、养老补贴等办事信息，\
     在社区公告栏同步张贴纸质公告，照顾不上网的群众。",
    "我们把依申请公开作为倾听群众诉求的渠道，建立申请登记、承办、审核、答复全流程台账，\
     对复杂申请组织法律顾问会商，答复文书全部经过合法性审查。",
    "结合机构改革后的职能调整，全面清理历史公开信息，对已失效的文件标注失效，\
     对职能划转事项在网站显著位置说明新的承办单位和联系方式。",
];

/// Problems found and what was done, one per variant.
const PROBLEMS: [&str; 6] = [
    "存在的主要问题：部分栏目更新不够及时，政策解读形式较为单一，基层工作人员业务能力有待提高。\
     改进情况：建立栏目更新提醒机制，丰富图解、视频等解读形式，组织开展业务培训两次。",
    "涉企政策的集中发布平台尚未建成，企业查找政策仍需跨多个栏目。下一步将上线惠企政策专区，\
     按行业和企业规模分类归集政策文件，并提供订阅推送。",
    "项目信息分散在多个审批系统，公开时效受到影响。今后将推动审批系统与门户网站数据对接，\
     做到审批结果自动推送、按时公开。",
    "民生信息的发布语言偏重公文表述，群众阅读理解有困难。已要求各科室发布办事信息时附通俗版说明，\
     并邀请社区居民代表参与评议。",
    "个别申请答复说理不够充分，引用条款不够准确。将修订答复文书范本，每季度开展一次案卷评查，\
     评查结果纳入科室年度考核。",
    "历史信息清理工作量大，仍有少量文件状态未标注。计划在次年一季度完成全部存量文件的有效性标注，\
     并建立文件废止与网站同步更新的工作机制。",
];

impl SampleReport {
    /// `unit`'s complete report for `year` (variant 0), published on 20 January of the next
    /// year.
    pub fn complete(unit: &str, year: i32) -> Self {
        Self::complete_variant(unit, year, 0)
    }

    /// `unit`'s complete report for `year`, its narrative of variant `variant` (modulo 6).
    pub fn complete_variant(unit: &str, year: i32, variant: usize) -> Self {
        let zero = [0; 7];
        let blocks = vec![
            text(&format!(
                "本报告根据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开工作年度报告格式》要求，\
                 由{unit}编制。本报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"
            )),
            heading("一、总体情况"),
            text(&format!(
                "{year}年，{unit}坚持以公开为常态、不公开为例外，围绕中心工作深化政务公开，\
                 主动公开各类政府信息，及时回应社会关切，依申请公开办理规范有序。"
            )),
            text(WORK[variant % WORK.len()]),
            heading("二、主动公开政府信息情况"),
            Block::Header(vec![
                "信息内容".into(),
                "本年制发件数".into(),
                "本年废止件数".into(),
                "现行有效件数".into(),
            ]),
            row("规章", &[0, 0, 0]),
            row("行政规范性文件", &[2, 1, 15]),
            Block::Header(vec!["信息内容".into(), "本年处理决定数量".into()]),
            row("行政许可", &[120]),
            row("行政处罚", &[35]),
            row("行政强制", &[3]),
            Block::Header(vec!["信息内容".into(), "本年收费金额（单位：万元）".into()]),
            row("行政事业性收费", &[0]),
            heading("三、收到和处理政府信息公开申请情况"),
            Block::Header(
                [
                    "申请人情况",
                    "自然人",
                    "商业企业",
                    "科研机构",
                    "社会公益组织",
                    "法律服务机构",
                    "其他",
                    "总计",
                ]
                .map(String::from)
                .to_vec(),
            ),
            row("一、本年新收政府信息公开申请数量", &[20, 3, 0, 1, 1, 0, 25]),
            row("二、上年结转政府信息公开申请数量", &[2, 0, 0, 0, 0, 0, 2]),
            row("三、本年度办理结果 （一）予以公开", &[10, 2, 0, 1, 0, 0, 13]),
            row("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", &[3, 0, 0, 0, 1, 0, 4]),
            row("（三）不予公开 1.属于国家秘密", &zero),
            row("2.其他法律行政法规禁止公开", &zero),
            row("3.危及“三安全一稳定”", &zero),
            row("4.保护第三方合法权益", &[1, 0, 0, 0, 0, 0, 1]),
            row("5.属于三类内部事务信息", &zero),
            row("6.属于四类过程性信息", &[1, 0, 0, 0, 0, 0, 1]),
            row("7.属于行政执法案卷", &zero),
            row("8.属于行政查询事项", &zero),
            row("（四）无法提供 1.本机关不掌握相关政府信息", &[4, 1, 0, 0, 0, 0, 5]),
            row("2.没有现成信息需要另行制作", &[1, 0, 0, 0, 0, 0, 1]),
            row("3.补正后申请内容仍不明确", &zero),
            row("（五）不予处理 1.信访举报投诉类申请", &[1, 0, 0, 0, 0, 0, 1]),
            row("2.重复申请", &zero),
            row("3.要求提供公开出版物", &zero),
            row("4.无正当理由大量反复申请", &zero),
            row("5.要求行政机关确认或重新出具已获取信息", &zero),
            row("（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", &zero),
            row("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", &zero),
            row("3.其他", &zero),
            row("（七）总计", &[21, 3, 0, 1, 1, 0, 26]),
            row("四、结转下年度继续办理", &[1, 0, 0, 0, 0, 0, 1]),
            heading("四、政府信息公开行政复议、行政诉讼情况"),
            Block::Header(
                ["行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉"].map(String::from).to_vec(),
            ),
            Block::Header(
                ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
                    .repeat(3)
                    .into_iter()
                    .map(String::from)
                    .collect(),
            ),
            row("", &[1, 0, 0, 1, 2, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]),
            heading("五、存在的主要问题及改进情况"),
            text(PROBLEMS[variant % PROBLEMS.len()]),
            heading("六、其他需要报告的事项"),
            text("本年度未收取信息处理费。本机关无其他需要报告的事项。"),
        ];
        Self {
            title: format!("{unit}{year}年政府信息公开工作年度报告"),
            published: format!("{}-01-20", year + 1),
            blocks,
        }
    }

    /// The report without the section whose heading contains `heading` (up to the next one).
    pub fn without_section(mut self, heading: &str) -> Self {
        let Some(start) =
            self.blocks.iter().position(|b| matches!(b, Block::Heading(h) if h.contains(heading)))
        else {
            return self;
        };
        let end = self.blocks[start + 1..]
            .iter()
            .position(|b| matches!(b, Block::Heading(_)))
            .map_or(self.blocks.len(), |p| start + 1 + p);
        self.blocks.drain(start..end);
        self
    }

    /// The report without the table rows of the section whose heading contains `heading` (the
    /// section's prose stays).
    pub fn without_table(mut self, heading: &str) -> Self {
        let mut inside = false;
        self.blocks.retain(|block| {
            if let Block::Heading(h) = block {
                inside = h.contains(heading);
            }
            !(inside && matches!(block, Block::Row(..) | Block::Header(_)))
        });
        self
    }

    /// The report with the numbers of the rows whose label contains `label` replaced.
    pub fn with_row(mut self, label: &str, numbers: &[u32]) -> Self {
        for block in &mut self.blocks {
            // An empty `label` is the unlabelled row (the reconsideration table's).
            if let Block::Row(l, values) = block
                && (if label.is_empty() { l.is_empty() } else { l.contains(label) })
            {
                *values = numbers.iter().map(u32::to_string).collect();
            }
        }
        self
    }

    /// The report with `from` replaced by `to` everywhere (title, date and text).
    pub fn replace(mut self, from: &str, to: &str) -> Self {
        self.title = self.title.replace(from, to);
        self.published = self.published.replace(from, to);
        for block in &mut self.blocks {
            match block {
                Block::Heading(s) | Block::Paragraph(s) | Block::Row(s, _) => *s = s.replace(from, to),
                Block::Header(cells) => cells.iter_mut().for_each(|c| *c = c.replace(from, to)),
            }
        }
        self
    }

    /// The report as a page of a government site (tables as HTML tables).
    pub fn html(&self) -> String {
        let mut body = String::new();
        let mut in_table = false;
        for block in &self.blocks {
            let is_row = matches!(block, Block::Row(..) | Block::Header(_));
            if is_row && !in_table {
                body.push_str("<table border=\"1\">");
            } else if !is_row && in_table {
                body.push_str("</table>");
            }
            in_table = is_row;
            match block {
                Block::Heading(h) => body.push_str(&format!("<h3>{}</h3>", escape(h))),
                Block::Paragraph(p) => body.push_str(&format!("<p>{}</p>", escape(p))),
                Block::Header(cells) => {
                    body.push_str("<tr>");
                    cells.iter().for_each(|c| body.push_str(&format!("<th>{}</th>", escape(c))));
                    body.push_str("</tr>");
                }
                Block::Row(label, numbers) => {
                    body.push_str("<tr>");
                    if !label.is_empty() {
                        body.push_str(&format!("<td>{}</td>", escape(label)));
                    }
                    numbers.iter().for_each(|n| body.push_str(&format!("<td>{n}</td>")));
                    body.push_str("</tr>");
                }
            }
        }
        if in_table {
            body.push_str("</table>");
        }
        format!(
            "<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
             <div class=\"crumb\">当前位置：首页 &gt; 政府信息公开 &gt; 年度报告</div>\
             <h1>{title}</h1><div class=\"info\">发布时间：{published}　来源：本站</div>\
             <div class=\"content\">{body}</div></body></html>",
            title = escape(&self.title),
            published = self.published,
        )
    }

    /// The report's text lines as a PDF sets them: title, then each block on one line (a table
    /// row as its label followed by its numbers).
    pub fn pdf_lines(&self) -> Vec<String> {
        let mut lines = vec![self.title.clone()];
        for block in &self.blocks {
            lines.push(match block {
                Block::Heading(s) | Block::Paragraph(s) => s.clone(),
                Block::Header(cells) => cells.join(" "),
                Block::Row(label, numbers) => format!("{label} {}", numbers.join(" ")).trim().to_owned(),
            });
        }
        lines
    }

    /// The report as a PDF: Chinese in the `cjk` font, ASCII in the `latin` one (as the notices
    /// are set), long lines wrapped, A4 pages.
    pub fn pdf(&self, cjk: &Path, latin: &Path) -> Result<Vec<u8>, String> {
        let load = |path: &Path| {
            let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Font::new(data.into(), 0).ok_or_else(|| format!("{}: not a font", path.display()))
        };
        let (cjk, latin) = (load(cjk)?, load(latin)?);
        // Page geometry in points (krilla's f32 coordinates), nothing to do with scoring.
        let size = 9.0_f32;
        let per_line = 56;
        let mut wrapped = Vec::new();
        for line in self.pdf_lines() {
            // Wrapped between words, so that no number is cut in two.
            let mut current = String::new();
            for word in line.split(' ') {
                let used = current.chars().count();
                if used > 0 && used + 1 + word.chars().count() > per_line {
                    wrapped.push(std::mem::take(&mut current));
                }
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(word);
            }
            wrapped.push(current);
        }
        let mut document = Document::new_with(SerializeSettings::default());
        for page_lines in wrapped.chunks(60) {
            let settings = PageSettings::from_wh(595.0, 842.0).ok_or("page size")?;
            let mut page = document.start_page_with(settings);
            let mut surface = page.surface();
            for (i, line) in page_lines.iter().enumerate() {
                let y = 50.0 + i as f32 * size * 1.4;
                let mut x = 40.0;
                for (ascii, run) in runs(line) {
                    let font = if ascii { latin.clone() } else { cjk.clone() };
                    surface.draw_text(Point::from_xy(x, y), font, size, &run, false, TextDirection::Auto);
                    x += run.chars().map(|c| if c.is_ascii() { size * 0.6 } else { size }).sum::<f32>();
                }
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| format!("{e:?}"))
    }
}

/// Runs of ASCII and of other characters.
fn runs(line: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in line.chars() {
        match out.last_mut() {
            Some((ascii, run)) if *ascii == c.is_ascii() => run.push(c),
            _ => out.push((c.is_ascii(), c.to_string())),
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
