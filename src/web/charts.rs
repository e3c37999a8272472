//! Server-rendered SVG charts for the dashboard: the score distribution of a cycle, a unit's
//! trend across cycles, and the average per unit kind.
//!
//! Why hand-written SVG: the dashboard fetches nothing from outside the server and runs no
//! chart script, and these three charts are a few dozen elements each. Every chart has a
//! fixed `viewBox` and `width="100%"`, so it scales to a phone; it carries a `<title>`, an
//! `aria-label` summary and a `<desc>` with the numbers, so a screen reader gets the data.
//!
//! Two rules keep the module trustworthy:
//! - every piece of text that reaches the SVG (unit names and cycle ids come from data files)
//!   goes through [`escape`], and only [`Canvas`] writes markup, so nothing can bypass it;
//! - coordinates are `Decimal`s rounded to one decimal place. No floats anywhere near scores,
//!   so a reviewer never has to ask whether a bar is off by a rounding error.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

/// A complete `<svg>` element, ready to be inlined in a page (its text is already escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    /// The markup, to inline in a page (templates must not escape it again).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The markup, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One line of a trend chart, e.g. a unit, or the city average.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendSeries {
    /// The series' name in the legend (a unit's name, or 全市平均).
    pub label: String,
    /// In cycle order, oldest first. A series may skip cycles another series has.
    pub points: Vec<TrendPoint>,
}

/// A series' total in one cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendPoint {
    /// The cycle as shown on the x axis (an id or a Chinese label such as 2025年第一季度).
    pub cycle: String,
    /// The series' total score in the cycle, in points.
    pub total: Decimal,
    /// The overall rank in that cycle, shown in the point's tooltip; none for an average.
    pub rank: Option<u32>,
}

/// The score distribution uses ten equal bins over 0..max: few enough to read on a phone,
/// and on the usual 100-point scale each bin is a grade-sized ten points.
const DISTRIBUTION_BINS: usize = 10;

// The palette matches app.css: ink, muted, grid, the link blue for data and the accent red
// for danger (below the pass mark, laggards). Red is never a series colour, so red always
// means "needs attention".
const INK: &str = "#1d2733";
const MUTED: &str = "#6b7785";
const GRID: &str = "#dde3ea";
const BAR: &str = "#1a5fb4";
const DANGER: &str = "#b3261e";
const WARN: &str = "#b26a00";
const SERIES_COLOURS: &[&str] = &["#1a5fb4", "#6b7785", "#2e7d32", "#b26a00", "#613583"];
const FONT_FAMILY: &str = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif";
const FONT_SIZE: i64 = 13;

/// 400 units wide with 13-unit text: on a 360-pixel phone the text is still about 12 pixels.
const WIDTH: i64 = 400;

// Score distribution geometry. The plot height is even so that half a count is an exact
// half height.
const HIST_HEIGHT: i64 = 300;
const HIST_LEFT: i64 = 56;
const HIST_RIGHT: i64 = 16;
const HIST_TOP: i64 = 36;
const HIST_BOTTOM: i64 = 52;
const HIST_BAR_GAP: i64 = 4;

// Trend geometry; the top margin grows with the legend rows.
const TREND_HEIGHT: i64 = 300;
const TREND_LEFT: i64 = 48;
const TREND_RIGHT: i64 = 16;
const TREND_BOTTOM: i64 = 40;
const LEGEND_ROW: i64 = 18;
const CYCLE_LABEL_CHARS: usize = 10;
/// Cosine and sine of the 35° slant of crowded cycle labels, to two places: enough to size
/// the margins the slanted labels need.
const SLANT_COS: Decimal = Decimal::from_parts(82, 0, 0, false, 2);
const SLANT_SIN: Decimal = Decimal::from_parts(58, 0, 0, false, 2);
const LEGEND_LABEL_CHARS: usize = 16;

// Kind bars geometry: one row per kind.
const KIND_TOP: i64 = 12;
const KIND_ROW: i64 = 36;
const KIND_BOTTOM: i64 = 8;
const KIND_LABEL_RIGHT: i64 = 116;
const KIND_BAR_LEFT: i64 = 124;
const KIND_BAR_MAX: i64 = 168;
const KIND_BAR_HEIGHT: i64 = 20;
const KIND_LABEL_CHARS: usize = 9;

const PLACEHOLDER_HEIGHT: i64 = 160;
const NO_DATA: &str = "暂无数据";

/// A histogram of unit totals: ten bins over 0..`max` (the last bin closed), bar heights
/// proportional to counts, the count on each bar, and a dashed 合格线 at the pass mark. Bins
/// wholly below the pass mark are red, a bin the pass mark cuts is amber.
///
/// Scores outside 0..max are counted in the nearest bin (a bonus above the nominal maximum is
/// still a top score). No scores, or a non-positive `max`, render the "暂无数据" placeholder.
pub fn score_distribution(scores: &[Decimal], pass_mark: Option<Decimal>, max: Decimal) -> Svg {
    const TITLE: &str = "得分分布";
    if scores.is_empty() || max <= Decimal::ZERO {
        return placeholder(TITLE);
    }
    let counts = bin_counts(scores, max, DISTRIBUTION_BINS);
    let bins = Decimal::from(DISTRIBUTION_BINS);
    let edge = |i: usize| max * Decimal::from(i) / bins;
    let left = d(HIST_LEFT);
    let top = d(HIST_TOP);
    let plot_width = d(WIDTH - HIST_LEFT - HIST_RIGHT);
    let plot_height = d(HIST_HEIGHT - HIST_TOP - HIST_BOTTOM);
    let bottom = top + plot_height;
    let slot = plot_width / bins;
    let tallest = counts.iter().copied().max().unwrap_or(0);

    let mut canvas = Canvas::new(WIDTH, HIST_HEIGHT);
    // Grid line and label at the tallest count; the axis itself at zero.
    if tallest > 0 {
        canvas.line(left, top, left + plot_width, top, GRID, None);
        canvas.text(left - d(6), top + d(4), Anchor::End, MUTED, &tallest.to_string());
    }
    canvas.text(left - d(6), bottom + d(4), Anchor::End, MUTED, "0");
    // Upright above the count labels rather than turned beside them, where a five-digit count
    // would run into it; upright also reads better on a phone.
    canvas.text(d(4), top - d(18), Anchor::Start, MUTED, "单位数");

    for (i, count) in counts.iter().copied().enumerate() {
        let height = if tallest == 0 {
            Decimal::ZERO
        } else {
            round(plot_height * Decimal::from(count) / Decimal::from(tallest))
        };
        let x = left + slot * Decimal::from(i) + d(HIST_BAR_GAP) / d(2);
        let width = slot - d(HIST_BAR_GAP);
        let (lower, upper) = (edge(i), edge(i + 1));
        let is_last = i + 1 == DISTRIBUTION_BINS;
        let fill = match pass_mark {
            Some(pass) if (if is_last { upper < pass } else { upper <= pass }) => DANGER,
            Some(pass) if lower < pass => WARN,
            _ => BAR,
        };
        let range = if is_last {
            format!("{}–{} 分（含 {}）", label_number(lower), label_number(upper), label_number(upper))
        } else {
            format!("{}–{} 分", label_number(lower), label_number(upper))
        };
        canvas.element(
            "rect",
            &[
                ("class", "bar".into()),
                ("x", num(x)),
                ("y", num(bottom - height)),
                ("width", num(width)),
                ("height", num(height)),
                ("fill", fill.into()),
            ],
            Some(&format!("{range}：{count} 个单位")),
        );
        if count > 0 {
            canvas.text(x + width / d(2), bottom - height - d(4), Anchor::Middle, INK, &count.to_string());
        }
    }

    canvas.line(left, bottom, left + plot_width, bottom, INK, None);
    canvas.line(left, top, left, bottom, INK, None);
    // Edges like 31.5 are too wide to label side by side; then every other edge is labelled.
    let widest_edge =
        (0..=DISTRIBUTION_BINS).map(|i| text_width(&label_number(edge(i)))).max().unwrap_or_default();
    let label_every = if widest_edge > slot - d(2) { 2 } else { 1 };
    for i in 0..=DISTRIBUTION_BINS {
        let x = left + slot * Decimal::from(i);
        canvas.line(x, bottom, x, bottom + d(4), INK, None);
        if i % label_every == 0 {
            canvas.text(x, bottom + d(17), Anchor::Middle, MUTED, &label_number(edge(i)));
        }
    }
    canvas.text(left + plot_width / d(2), bottom + d(40), Anchor::Middle, MUTED, "分数");

    let mut summary = format!("{TITLE}：共 {} 个单位，满分 {} 分", scores.len(), label_number(max));
    if let Some(pass) = pass_mark {
        let below = scores.iter().filter(|s| **s < pass).count();
        summary.push_str(&format!("，合格线 {} 分，低于合格线 {below} 个", label_number(pass)));
        // A line outside the axis would point at the wrong place; the summary still says it.
        if pass >= Decimal::ZERO && pass <= max {
            let x = left + plot_width * pass / max;
            canvas.line(x, top - d(12), x, bottom, DANGER, Some("5 4"));
            canvas.text(x, top - d(18), Anchor::Middle, DANGER, &format!("合格线 {}", label_number(pass)));
        }
    }
    let description = counts
        .iter()
        .enumerate()
        .map(|(i, count)| format!("{}–{} 分 {count} 个", label_number(edge(i)), label_number(edge(i + 1))))
        .collect::<Vec<_>>()
        .join("；");
    canvas.finish(TITLE, &summary, &description)
}

/// How many scores fall in each of `bins` equal bins over 0..max: a score on an edge belongs
/// to the upper bin, max to the last, scores beyond either end to the end bin.
///
/// Exact: `score` is in bin i when `score × bins ≥ max × i`, two multiplications and no
/// division, so an edge like max/3 (which no decimal can hold) is never misjudged.
fn bin_counts(scores: &[Decimal], max: Decimal, bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    if bins == 0 || max <= Decimal::ZERO {
        return counts;
    }
    let scale = Decimal::from(bins);
    let inner_edges: Vec<Decimal> = (1..bins).map(|i| max.saturating_mul(Decimal::from(i))).collect();
    for score in scores {
        let scaled = score.saturating_mul(scale);
        counts[inner_edges.partition_point(|edge| scaled >= *edge)] += 1;
    }
    counts
}

/// Lines across cycles, one per series (a unit, the city average, …), with a dot and the
/// total at every point, cycles along the x axis and a legend. A series with a single point is
/// a dot. The y axis spans the data with a margin rather than starting at zero: leaders look
/// for movement, and the axis labels say where it starts.
pub fn trend(series: &[TrendSeries]) -> Svg {
    const TITLE: &str = "得分趋势";
    let drawn: Vec<&TrendSeries> = series.iter().filter(|s| !s.points.is_empty()).collect();
    if drawn.is_empty() {
        return placeholder(TITLE);
    }
    let cycles = merged_cycles(&drawn);
    let totals = drawn.iter().flat_map(|s| s.points.iter().map(|p| p.total));
    let (low, high) = totals.fold((Decimal::MAX, Decimal::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let (axis_min, axis_max) = value_axis(low, high);

    let mut canvas = Canvas::new(WIDTH, TREND_HEIGHT);
    let legend_rows = legend(&mut canvas, &drawn);
    let top = d(legend_rows * LEGEND_ROW + 28);
    let count = Decimal::from(cycles.len());
    let shown_cycles: Vec<String> = cycles.iter().map(|c| truncate(c, CYCLE_LABEL_CHARS)).collect();
    let widest = shown_cycles.iter().map(|c| text_width(c)).max().unwrap_or_default();
    let rotate = widest > d(WIDTH - TREND_LEFT - TREND_RIGHT) / count - d(4);
    // Slanted labels reach down and to the left of their point: the plot moves right until the
    // first label fits (left + slot/2 ≥ its reach) and the bottom margin grows to hold them.
    let (left, bottom_margin) = if rotate {
        let reach = widest * SLANT_COS + d(4);
        let usable = d(WIDTH - TREND_RIGHT);
        let needed = (reach * d(2) * count - usable) / (d(2) * count - Decimal::ONE);
        (needed.max(d(TREND_LEFT)).ceil(), (widest * SLANT_SIN).ceil() + d(24))
    } else {
        (d(TREND_LEFT), d(TREND_BOTTOM))
    };
    let plot_width = d(WIDTH - TREND_RIGHT) - left;
    let slot = plot_width / count;
    let bottom = d(TREND_HEIGHT) - bottom_margin;
    let plot_height = bottom - top;
    let x_of = |index: usize| left + slot * Decimal::from(index) + slot / d(2);
    let y_of = |value: Decimal| top + plot_height * (axis_max - value) / (axis_max - axis_min);

    let middle = (axis_min + axis_max) / d(2);
    for value in [axis_max, middle, axis_min] {
        let y = y_of(value);
        canvas.line(left, y, left + plot_width, y, if value == axis_min { INK } else { GRID }, None);
        canvas.text(left - d(6), y + d(4), Anchor::End, MUTED, &label_number(value));
    }
    for (index, label) in shown_cycles.iter().enumerate() {
        let x = x_of(index);
        canvas.line(x, bottom, x, bottom + d(4), INK, None);
        if rotate {
            canvas.angled_text(x, bottom + d(16), MUTED, label);
        } else {
            canvas.text(x, bottom + d(18), Anchor::Middle, MUTED, label);
        }
    }

    let mut summaries = Vec::new();
    let mut details = Vec::new();
    for (number, one) in drawn.iter().enumerate() {
        let colour = SERIES_COLOURS[number % SERIES_COLOURS.len()];
        let placed: Vec<(Decimal, Decimal, &TrendPoint)> = one
            .points
            .iter()
            .map(|p| {
                let index = cycles.iter().position(|c| *c == p.cycle).unwrap_or(0);
                (round(x_of(index)), round(y_of(p.total)), p)
            })
            .collect();
        if placed.len() > 1 {
            let path = placed
                .iter()
                .enumerate()
                .map(|(i, (x, y, _))| format!("{}{} {}", if i == 0 { "M" } else { "L" }, num(*x), num(*y)))
                .collect::<Vec<_>>()
                .join(" ");
            canvas.element(
                "path",
                &[
                    ("d", path),
                    ("fill", "none".into()),
                    ("stroke", colour.into()),
                    ("stroke-width", "2".into()),
                    ("stroke-linejoin", "round".into()),
                ],
                None,
            );
        }
        // Alternate series put their values below the points so two close lines stay legible,
        // except where a value below would sit on the x axis.
        for (x, y, point) in &placed {
            let below = number % 2 == 1 && *y + d(18) < bottom - d(2);
            let label_offset = if below { d(18) } else { d(-9) };
            let mut tip = format!("{}，{}：{} 分", one.label, point.cycle, score_text(point.total));
            if let Some(rank) = point.rank {
                tip.push_str(&format!("，第 {rank} 名"));
            }
            canvas.element(
                "circle",
                &[
                    ("cx", num(*x)),
                    ("cy", num(*y)),
                    ("r", "4".into()),
                    ("fill", colour.into()),
                    ("stroke", "#fff".into()),
                    ("stroke-width", "1.5".into()),
                ],
                Some(&tip),
            );
            canvas.text(*x, *y + label_offset, Anchor::Middle, colour, &score_text(point.total));
            details.push(tip);
        }
        summaries.push(series_summary(one));
    }
    canvas.finish(TITLE, &format!("{TITLE}：{}", summaries.join("；")), &details.join("；"))
}

/// Every cycle any series has, in the order the series give them: a cycle one series lacks
/// is slotted in after the cycle that precedes it in the series that has it. Cycle labels are
/// not sorted as text because Chinese labels (第一季度, 第二季度…) do not sort that way.
fn merged_cycles(series: &[&TrendSeries]) -> Vec<String> {
    let mut merged: Vec<String> = Vec::new();
    for one in series {
        let mut insert_at = 0;
        for point in &one.points {
            match merged.iter().position(|c| *c == point.cycle) {
                Some(found) => insert_at = found + 1,
                None => {
                    merged.insert(insert_at, point.cycle.clone());
                    insert_at += 1;
                }
            }
        }
    }
    merged
}

/// The value range of the trend's y axis: the data plus a tenth of its spread (at least one
/// point) on each side, widened to whole points, and not below zero for non-negative data.
fn value_axis(low: Decimal, high: Decimal) -> (Decimal, Decimal) {
    let margin = ((high - low) / d(10)).max(Decimal::ONE);
    let mut axis_min = (low - margin).floor();
    if low >= Decimal::ZERO && axis_min < Decimal::ZERO {
        axis_min = Decimal::ZERO;
    }
    (axis_min, (high + margin).ceil())
}

/// Draws the legend across the top, wrapping to a new row when full; returns the row count.
fn legend(canvas: &mut Canvas, series: &[&TrendSeries]) -> i64 {
    let mut x = d(TREND_LEFT);
    let mut row = 0;
    for (number, one) in series.iter().enumerate() {
        let colour = SERIES_COLOURS[number % SERIES_COLOURS.len()];
        let label = truncate(&one.label, LEGEND_LABEL_CHARS);
        let width = d(22) + text_width(&label);
        if x > d(TREND_LEFT) && x + width > d(WIDTH - TREND_RIGHT) {
            row += 1;
            x = d(TREND_LEFT);
        }
        let y = d(16 + row * LEGEND_ROW);
        canvas.line(x, y, x + d(16), y, colour, None);
        canvas.element(
            "circle",
            &[("cx", num(x + d(8))), ("cy", num(y)), ("r", "3".into()), ("fill", colour.into())],
            None,
        );
        canvas.text(x + d(22), y + d(4), Anchor::Start, INK, &label);
        x += width + d(16);
    }
    row + 1
}

fn series_summary(series: &TrendSeries) -> String {
    match (series.points.first(), series.points.last()) {
        (Some(first), Some(last)) if series.points.len() > 1 => format!(
            "{} 从 {} 的 {} 分到 {} 的 {} 分",
            series.label,
            first.cycle,
            score_text(first.total),
            last.cycle,
            score_text(last.total)
        ),
        (Some(only), _) => format!("{} 在 {} 得 {} 分", series.label, only.cycle, score_text(only.total)),
        _ => String::new(),
    }
}

/// Average score per unit kind as horizontal bars, with each kind's laggard count beside it
/// (red when there are any). Bar lengths are proportional to the averages from zero; the
/// longest bar is the highest average.
pub fn kind_bars(rows: &[(String, Decimal, usize)]) -> Svg {
    const TITLE: &str = "各类型单位平均得分";
    if rows.is_empty() {
        return placeholder(TITLE);
    }
    let height = KIND_TOP + KIND_ROW * rows.len() as i64 + KIND_BOTTOM;
    let mut canvas = Canvas::new(WIDTH, height);
    let highest = rows.iter().map(|(_, average, _)| *average).max().unwrap_or_default();
    let mut summary = Vec::new();
    for (i, (label, average, laggards)) in rows.iter().enumerate() {
        let row_top = d(KIND_TOP + KIND_ROW * i as i64);
        let bar_top = row_top + d((KIND_ROW - KIND_BAR_HEIGHT) / 2);
        let middle = bar_top + d(KIND_BAR_HEIGHT) / d(2) + d(4);
        let width = if highest > Decimal::ZERO && *average > Decimal::ZERO {
            round(d(KIND_BAR_MAX) * *average / highest)
        } else {
            Decimal::ZERO
        };
        let line = format!("{label}：平均 {} 分，后进 {laggards} 个", score_text(*average));
        canvas.text(d(KIND_LABEL_RIGHT), middle, Anchor::End, INK, &truncate(label, KIND_LABEL_CHARS));
        canvas.element(
            "rect",
            &[
                ("class", "bar".into()),
                ("x", num(d(KIND_BAR_LEFT))),
                ("y", num(bar_top)),
                ("width", num(width)),
                ("height", num(d(KIND_BAR_HEIGHT))),
                ("fill", BAR.into()),
            ],
            Some(&line),
        );
        canvas.text(d(KIND_BAR_LEFT) + width + d(6), middle, Anchor::Start, INK, &score_text(*average));
        let (colour, text) =
            if *laggards > 0 { (DANGER, format!("后进 {laggards}")) } else { (MUTED, "后进 0".into()) };
        canvas.text(d(WIDTH - 8), middle, Anchor::End, colour, &text);
        summary.push(line);
    }
    canvas.finish(TITLE, &format!("{TITLE}：{}", summary.join("；")), "")
}

/// What a chart shows when there is nothing to chart: a dashed frame saying 暂无数据, so the
/// page keeps its layout and the reader knows the data is missing rather than the chart.
fn placeholder(title: &str) -> Svg {
    let mut canvas = Canvas::new(WIDTH, PLACEHOLDER_HEIGHT);
    canvas.element(
        "rect",
        &[
            ("x", "1".into()),
            ("y", "1".into()),
            ("width", num(d(WIDTH - 2))),
            ("height", num(d(PLACEHOLDER_HEIGHT - 2))),
            ("rx", "6".into()),
            ("fill", "none".into()),
            ("stroke", GRID.into()),
            ("stroke-dasharray", "6 4".into()),
        ],
        None,
    );
    canvas.text(d(WIDTH / 2), d(PLACEHOLDER_HEIGHT / 2 + 5), Anchor::Middle, MUTED, NO_DATA);
    canvas.finish(title, &format!("{title}：{NO_DATA}"), "")
}

#[derive(Clone, Copy)]
enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// The only writer of SVG markup: every attribute value and every text goes through
/// [`escape`] here, so no chart can forget it.
struct Canvas {
    width: i64,
    height: i64,
    body: String,
}

impl Canvas {
    fn new(width: i64, height: i64) -> Canvas {
        Canvas { width, height, body: String::new() }
    }

    /// An element with escaped attributes; a `tooltip` becomes its `<title>` child, which
    /// desktop browsers show on hover and screen readers read out.
    fn element(&mut self, name: &str, attributes: &[(&str, String)], tooltip: Option<&str>) {
        self.body.push('<');
        self.body.push_str(name);
        for (key, value) in attributes {
            self.body.push_str(&format!(" {key}=\"{}\"", escape(value)));
        }
        match tooltip {
            Some(tip) => self.body.push_str(&format!("><title>{}</title></{name}>", escape(tip))),
            None => self.body.push_str("/>"),
        }
    }

    fn line(&mut self, x1: Decimal, y1: Decimal, x2: Decimal, y2: Decimal, colour: &str, dash: Option<&str>) {
        // A dashed line is a marker (the pass mark) and is drawn a little heavier.
        let mut attributes = vec![
            ("x1", num(x1)),
            ("y1", num(y1)),
            ("x2", num(x2)),
            ("y2", num(y2)),
            ("stroke", colour.to_string()),
            ("stroke-width", if dash.is_some() { "1.5" } else { "1" }.to_string()),
        ];
        if let Some(dash) = dash {
            attributes.push(("stroke-dasharray", dash.to_string()));
        }
        self.element("line", &attributes, None);
    }

    fn text(&mut self, x: Decimal, y: Decimal, anchor: Anchor, colour: &str, content: &str) {
        self.text_with(
            &[("x", num(x)), ("y", num(y)), ("text-anchor", anchor.as_str().into()), ("fill", colour.into())],
            content,
        );
    }

    /// Text slanted down-left from (x, y), for x labels too wide to stand side by side.
    fn angled_text(&mut self, x: Decimal, y: Decimal, colour: &str, content: &str) {
        self.text_with(
            &[
                ("x", num(x)),
                ("y", num(y)),
                ("text-anchor", "end".into()),
                ("fill", colour.into()),
                ("transform", format!("rotate(-35 {} {})", num(x), num(y))),
            ],
            content,
        );
    }

    fn text_with(&mut self, attributes: &[(&str, String)], content: &str) {
        self.body.push_str("<text");
        for (key, value) in attributes {
            self.body.push_str(&format!(" {key}=\"{}\"", escape(value)));
        }
        self.body.push_str(&format!(">{}</text>", escape(content)));
    }

    fn finish(self, title: &str, summary: &str, description: &str) -> Svg {
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" \
             aria-label=\"{}\" font-family=\"{}\" font-size=\"{FONT_SIZE}\" class=\"chart\"><title>{}</title>",
            self.width,
            self.height,
            escape(summary),
            escape(FONT_FAMILY),
            escape(title),
        );
        if !description.is_empty() {
            svg.push_str(&format!("<desc>{}</desc>", escape(description)));
        }
        svg.push_str(&self.body);
        svg.push_str("</svg>");
        Svg(svg)
    }
}

/// Makes any text safe inside SVG content or a double- or single-quoted attribute, and drops
/// the control characters XML cannot carry at all (a data file may hold them; one would make
/// the whole chart unreadable when served as an image).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < '\u{20}' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn d(value: i64) -> Decimal {
    Decimal::from(value)
}

/// A coordinate rounded to the one decimal place the SVG is written with.
fn round(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
}

/// A coordinate as written into an attribute: one decimal place at most, no trailing zero.
fn num(value: Decimal) -> String {
    round(value).normalize().to_string()
}

/// An axis or edge value for people: two decimal places at most, no trailing zero ("31.5",
/// "100", "9.97"), so a bin edge is not shown as a rounder number than it is.
fn label_number(value: Decimal) -> String {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero).normalize().to_string()
}

/// A score as shown on a chart: its own text when it has at most two decimals ("87.50" stays
/// "87.50"), an average like 84.3333… rounded to two.
fn score_text(value: Decimal) -> String {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero).to_string()
}

/// Roughly how wide a text is at the chart font size: CJK characters are a full em, Latin
/// letters and digits about 0.6 em. Good enough to lay out legends and choose label angles.
fn text_width(text: &str) -> Decimal {
    let tenths: i64 = text.chars().map(|c| if c.len_utf8() >= 3 { 10 } else { 6 }).sum();
    d(tenths * FONT_SIZE) / d(10)
}

/// At most `limit` characters, with an ellipsis when cut (the full text stays in tooltips).
fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use regex::Regex;
    use rust_decimal_macros::dec;

    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script> & \"x\"";

    fn scores(values: &[&str]) -> Vec<Decimal> {
        values.iter().map(|v| Decimal::from_str(v).unwrap()).collect()
    }

    fn point(cycle: &str, total: Decimal, rank: Option<u32>) -> TrendPoint {
        TrendPoint { cycle: cycle.into(), total, rank }
    }

    /// The values of `attribute` on the chart's bars, in drawing order.
    fn bar_attribute(svg: &Svg, attribute: &str) -> Vec<Decimal> {
        let pattern = Regex::new(&format!(r#"<rect class="bar"[^>]* {attribute}="([^"]*)""#)).unwrap();
        pattern.captures_iter(svg.as_str()).map(|c| Decimal::from_str(&c[1]).unwrap()).collect()
    }

    /// A small well-formedness check: tags nest and close, attribute values are quoted
    /// without stray quotes, and every `&` starts an entity.
    fn assert_well_formed(svg: &str) {
        let tag = Regex::new(r#"<(/?)([a-z]+)((?:\s+[a-zA-Z0-9:-]+="[^"<>]*")*)\s*(/?)>"#).unwrap();
        let mut stack = Vec::new();
        let mut last = 0;
        for caps in tag.captures_iter(svg) {
            let whole = caps.get(0).unwrap();
            let between = &svg[last..whole.start()];
            assert!(!between.contains('<') && !between.contains('>'), "stray markup in {between:?}");
            last = whole.end();
            let name = caps[2].to_string();
            if &caps[1] == "/" {
                assert_eq!(stack.pop(), Some(name), "mismatched close tag");
            } else if &caps[4] != "/" {
                stack.push(name);
            }
        }
        assert!(svg[last..].is_empty(), "text after the root element");
        assert!(stack.is_empty(), "unclosed elements {stack:?}");
        let entity = Regex::new(r"&(amp|lt|gt|quot|#39);").unwrap();
        assert!(!entity.replace_all(svg, "").contains('&'), "a bare & in {svg}");
    }

    #[test]
    fn bins_put_edges_in_the_upper_bin_and_clamp_the_ends() {
        let counts = bin_counts(
            &scores(&["0", "9.99", "10", "19.999", "20", "89.99", "90", "100", "100.01", "150", "-5"]),
            dec!(100),
            10,
        );
        assert_eq!(counts, [3, 2, 1, 0, 0, 0, 0, 0, 1, 4]);
        assert_eq!(counts.iter().sum::<usize>(), 11, "every score is counted once");
    }

    #[test]
    fn bins_are_exact_where_division_would_round() {
        // 1/3 has no exact decimal: 0.333…3 (28 digits) is just below the true edge and
        // belongs to the first bin, which a `score / width` division would get wrong.
        let just_below = Decimal::from_str("0.3333333333333333333333333333").unwrap();
        assert_eq!(bin_counts(&[just_below], dec!(1), 3), [1, 0, 0]);
        // A maximum that is not a multiple of ten: edges every 10.5.
        assert_eq!(
            bin_counts(&scores(&["10.49", "10.5", "105"]), dec!(105), 10),
            [1, 1, 0, 0, 0, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn bar_heights_are_proportional_to_counts() {
        // Four in 80–90, two in 60–70, one in 30–40.
        let svg = score_distribution(&scores(&["85", "80", "89.5", "88", "60", "65", "30"]), None, dec!(100));
        let heights = bar_attribute(&svg, "height");
        let full = d(HIST_HEIGHT - HIST_TOP - HIST_BOTTOM);
        assert_eq!(heights.len(), 10);
        assert_eq!(heights[8], full, "the tallest bar has the full height");
        assert_eq!(heights[6], full / d(2), "half the count, half the height");
        assert_eq!(heights[3], full / d(4));
        for empty in [0, 1, 2, 4, 5, 7, 9] {
            assert_eq!(heights[empty], Decimal::ZERO, "bin {empty} is empty");
        }
        // Bars stand on the same baseline.
        let ys = bar_attribute(&svg, "y");
        let bottoms: Vec<Decimal> = ys.iter().zip(&heights).map(|(y, h)| y + h).collect();
        assert!(bottoms.iter().all(|b| *b == d(HIST_HEIGHT - HIST_BOTTOM)), "{bottoms:?}");
        // Count labels on the non-empty bars.
        for label in [">4</text>", ">2</text>", ">1</text>"] {
            assert!(svg.as_str().contains(label), "missing count label {label}");
        }
        assert_well_formed(svg.as_str());
    }

    #[test]
    fn distribution_has_chinese_axes_accessible_text_and_a_dashed_pass_line() {
        let svg = score_distribution(&scores(&["55", "72.5", "91"]), Some(dec!(60)), dec!(100));
        let text = svg.as_str();
        assert!(text.contains(">分数</text>") && text.contains(">单位数</text>"));
        assert!(text.contains("<title>得分分布</title>"));
        assert!(
            text.contains("aria-label=\"得分分布：共 3 个单位，满分 100 分，合格线 60 分，低于合格线 1 个\"")
        );
        assert!(text.contains("合格线 60</text>"));
        // 60 of 100 across the 328-wide plot that starts at 56.
        let pass_line =
            Regex::new(r#"<line x1="252.8" y1="[\d.]+" x2="252.8" [^>]*stroke-dasharray="5 4""#).unwrap();
        assert!(pass_line.is_match(text), "{text}");
        assert!(text.contains("width=\"100%\"") && text.contains("viewBox=\"0 0 400 300\""));
        // Bins wholly below the pass mark are red, the rest blue.
        let fills = Regex::new(r#"<rect class="bar"[^>]* fill="([^"]*)""#).unwrap();
        let fills: Vec<&str> = fills.captures_iter(text).map(|c| c.get(1).unwrap().as_str()).collect();
        assert_eq!(fills[..6], [DANGER; 6]);
        assert_eq!(fills[6..], [BAR; 4]);
        assert_well_formed(text);
    }

    #[test]
    fn pass_mark_outside_the_axis_draws_no_line() {
        let svg = score_distribution(&scores(&["55"]), Some(dec!(120)), dec!(100));
        assert!(!svg.as_str().contains("stroke-dasharray"));
        assert!(svg.as_str().contains("合格线 120 分"), "the summary still says it");
    }

    #[test]
    fn no_scores_or_no_scale_is_a_placeholder() {
        for svg in [
            score_distribution(&[], Some(dec!(60)), dec!(100)),
            score_distribution(&[dec!(5)], None, dec!(0)),
        ] {
            assert!(svg.as_str().contains(">暂无数据</text>"));
            assert!(!svg.as_str().contains("class=\"bar\""));
            assert_well_formed(svg.as_str());
        }
    }

    #[test]
    fn coordinates_have_at_most_one_decimal_place() {
        let svgs = [
            score_distribution(&scores(&["1", "2", "3", "33.333"]), Some(dec!(33.3333)), dec!(99.7)),
            trend(&[TrendSeries {
                label: "甲".into(),
                points: vec![
                    point("a", dec!(70.3333), None),
                    point("b", dec!(81.17), None),
                    point("c", dec!(77), None),
                ],
            }]),
            kind_bars(&[("甲".into(), dec!(71.333), 0), ("乙".into(), dec!(93.7), 1)]),
        ];
        let number = Regex::new(r#"(?:x|y|x1|y1|x2|y2|cx|cy|width|height)="-?\d+(\.\d+)?""#).unwrap();
        let long = Regex::new(r"\d\.\d\d").unwrap();
        let path = Regex::new(r#" d="([^"]*)""#).unwrap();
        for svg in &svgs {
            let mut seen = 0;
            for caps in number.captures_iter(svg.as_str()) {
                seen += 1;
                assert!(!long.is_match(&caps[0]), "{} has more than one decimal", &caps[0]);
            }
            assert!(seen > 5);
            for caps in path.captures_iter(svg.as_str()) {
                assert!(!long.is_match(&caps[1]), "path {} has more than one decimal", &caps[1]);
            }
        }
    }

    #[test]
    fn hostile_names_and_cycles_are_escaped_everywhere() {
        let series = [TrendSeries {
            label: HOSTILE.into(),
            points: vec![point(HOSTILE, dec!(80), Some(1)), point("2025'Q2\u{7}", dec!(82), Some(2))],
        }];
        let svgs = [trend(&series), kind_bars(&[(HOSTILE.into(), dec!(80), 2)])];
        for svg in &svgs {
            let text = svg.as_str();
            assert!(!text.contains("<script"), "{text}");
            assert!(!text.contains("\"x\""), "{text}");
            assert!(!text.contains("'Q2"), "{text}");
            assert!(!text.contains('\u{7}'), "a control character XML cannot carry");
            assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
            assert_well_formed(text);
        }
    }

    #[test]
    fn escape_covers_content_and_both_quote_styles() {
        assert_eq!(escape(HOSTILE), "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;");
        assert_eq!(escape("a'b\u{0}c\u{FFFF}\n"), "a&#39;bc\n");
    }

    #[test]
    fn a_single_point_is_a_dot_without_a_line() {
        let svg = trend(&[TrendSeries {
            label: "市教育局".into(),
            points: vec![point("2025年第一季度", dec!(87.50), Some(3))],
        }]);
        let text = svg.as_str();
        assert!(text.contains("<circle cx="));
        assert!(!text.contains("<path"));
        assert!(text.contains(">87.50</text>"), "the value keeps its text");
        assert!(text.contains("第 3 名"), "the rank is in the tooltip");
        assert!(text.contains(">2025年第一季度</text>"));
        assert_well_formed(text);
    }

    #[test]
    fn two_points_are_joined_by_a_line_and_a_legend_names_each_series() {
        let svg = trend(&[
            TrendSeries {
                label: "市教育局".into(),
                points: vec![point("一季度", dec!(80), Some(5)), point("二季度", dec!(90), Some(2))],
            },
            TrendSeries {
                label: "全市平均".into(),
                points: vec![point("一季度", dec!(75.5), None), point("二季度", dec!(78), None)],
            },
        ]);
        let text = svg.as_str();
        assert_eq!(text.matches("<path").count(), 2);
        assert_eq!(text.matches("<circle").count(), 2 + 4, "two legend swatches and four points");
        assert!(text.contains(">市教育局</text>") && text.contains(">全市平均</text>"));
        // The higher total sits higher on the chart (a smaller y).
        let ys: Vec<Decimal> = Regex::new(r#"<circle cx="[\d.]+" cy="([\d.]+)" r="4""#)
            .unwrap()
            .captures_iter(text)
            .map(|c| Decimal::from_str(&c[1]).unwrap())
            .collect();
        assert!(ys[1] < ys[0], "90 is drawn above 80: {ys:?}");
        assert_well_formed(text);
    }

    #[test]
    fn cycles_a_series_skips_keep_their_place_on_the_axis() {
        let unit = TrendSeries {
            label: "单位".into(),
            points: vec![point("一期", dec!(80), None), point("三期", dec!(85), None)],
        };
        let city = TrendSeries {
            label: "全市".into(),
            points: vec![
                point("一期", dec!(70), None),
                point("二期", dec!(72), None),
                point("三期", dec!(74), None),
            ],
        };
        assert_eq!(merged_cycles(&[&unit, &city]), ["一期", "二期", "三期"]);
        let earlier = TrendSeries {
            label: "早".into(),
            points: vec![point("零期", dec!(60), None), point("一期", dec!(61), None)],
        };
        assert_eq!(merged_cycles(&[&unit, &earlier]), ["零期", "一期", "三期"]);
    }

    #[test]
    fn crowded_cycle_labels_slant_and_stay_inside_the_chart() {
        let cycles = ["2024年第一季度", "2024年第二季度", "2024年第三季度", "2024年第四季度"];
        let points: Vec<TrendPoint> = cycles
            .iter()
            .cycle()
            .take(8)
            .enumerate()
            .map(|(i, c)| point(&format!("{c}（{i}）"), Decimal::from(70 + i), None))
            .collect();
        let svg = trend(&[TrendSeries { label: "甲".into(), points }]);
        let slanted =
            Regex::new(r#"<text x="([\d.]+)" y="([\d.]+)"[^>]*transform="rotate\(-35[^>]*>([^<]*)</text>"#)
                .unwrap();
        let labels: Vec<(Decimal, Decimal, String)> = slanted
            .captures_iter(svg.as_str())
            .map(|c| (Decimal::from_str(&c[1]).unwrap(), Decimal::from_str(&c[2]).unwrap(), c[3].to_string()))
            .collect();
        assert_eq!(labels.len(), 8, "every cycle label is slanted");
        for (x, y, label) in &labels {
            let width = text_width(label);
            assert!(x - width * SLANT_COS >= Decimal::ZERO, "{label} runs off the left edge");
            assert!(y + width * SLANT_SIN <= d(TREND_HEIGHT), "{label} runs off the bottom");
        }
        assert!(labels[0].2.ends_with('…'), "a 12-character label is cut to 10");
        // Few short labels stand upright.
        let upright =
            trend(&[TrendSeries { label: "甲".into(), points: vec![point("2024-Q1", dec!(1), None)] }]);
        assert!(!upright.as_str().contains("rotate(-35"));
    }

    #[test]
    fn empty_trend_is_a_placeholder() {
        for series in [vec![], vec![TrendSeries { label: "甲".into(), points: vec![] }]] {
            let svg = trend(&series);
            assert!(svg.as_str().contains(">暂无数据</text>"));
            assert!(svg.as_str().contains("<title>得分趋势</title>"));
            assert!(!svg.as_str().contains("<circle"));
            assert_well_formed(svg.as_str());
        }
    }

    #[test]
    fn kind_bars_are_proportional_and_laggards_are_red() {
        let svg = kind_bars(&[
            ("政府部门".into(), dec!(90), 0),
            ("县区".into(), dec!(45), 3),
            ("企事业单位".into(), dec!(67.5), 1),
        ]);
        let widths = bar_attribute(&svg, "width");
        assert_eq!(widths, [d(KIND_BAR_MAX), d(KIND_BAR_MAX) / d(2), d(KIND_BAR_MAX) * d(3) / d(4)]);
        let text = svg.as_str();
        assert!(text.contains(&format!("fill=\"{DANGER}\">后进 3</text>")));
        assert!(text.contains(&format!("fill=\"{MUTED}\">后进 0</text>")));
        assert!(text.contains(">67.5</text>"));
        assert!(text.contains("viewBox=\"0 0 400 128\""), "one row per kind");
        assert_well_formed(text);
        assert!(kind_bars(&[]).as_str().contains(">暂无数据</text>"));
    }

    #[test]
    fn svg_displays_as_its_text() {
        let svg = kind_bars(&[("甲".into(), dec!(1), 0)]);
        assert_eq!(svg.to_string(), svg.as_str());
        assert!(svg.as_str().starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.clone().into_string().ends_with("</svg>"));
    }
}
