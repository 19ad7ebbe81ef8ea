//! Bar charts as inline SVG, drawn on the server: no script, no external file. Each chart is a
//! `<figure>` holding the picture (`role="img"`, an `aria-label` and a `<title>` that say what it
//! shows) and the same numbers as a visually hidden table, so they can be read without the
//! picture and without JavaScript. Colours come from presentation attributes, which the CSP
//! (no inline styles) allows.

use std::fmt::Write as _;

use crate::html::escape as esc;

/// One chart: groups of bars (one bar per series in each group).
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// The element id prefix (unique on the page).
    pub id: &'a str,
    pub title: &'a str,
    /// Names of the series (one colour each), e.g. `["Granted", "Withdrawn"]`.
    pub series: Vec<&'a str>,
    /// (label, one value per series).
    pub groups: Vec<(String, Vec<i64>)>,
    /// Header of the label column in the data table.
    pub label_header: &'a str,
    /// Show every n-th label under the axis (long series).
    pub label_every: usize,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;
const COLOURS: [&str; 3] = ["#0b5cad", "#b3261e", "#1a7f37"];

/// Where things go: the largest value, the plot's height and baseline, and each group's slot.
struct Frame {
    max: i64,
    plot_h: f64,
    base: f64,
    slot: f64,
    bar_w: f64,
}

impl Frame {
    fn of(chart: &Chart<'_>) -> Self {
        let max = chart.groups.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0).max(1);
        let series = chart.series.len().max(1);
        let plot_w = WIDTH - LEFT - 8.0;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let slot = plot_w / chart.groups.len().max(1) as f64;
        let bar_w = (slot * 0.8 / series as f64).max(1.0);
        Self { max, plot_h, base: TOP + plot_h, slot, bar_w }
    }
}

/// The chart as an HTML fragment (a `<figure>`), safe to insert unescaped.
pub fn render(chart: &Chart<'_>) -> String {
    let frame = Frame::of(chart);
    let mut svg = String::new();
    let title_id = format!("{}-title", chart.id);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{}" class="chart"><title id="{title_id}">{}</title>"#,
        esc(chart.title),
        esc(chart.title)
    );
    axes(&mut svg, chart, &frame);
    bars(&mut svg, chart, &frame);
    svg.push_str("</svg>");
    // A visible heading per chart: the picture's own title is only a tooltip.
    format!(
        r#"<h2 class="chart-title" id="{id}-heading">{}</h2><figure class="chart-figure" id="{id}" aria-labelledby="{id}-heading">{svg}{}{}</figure>"#,
        esc(chart.title),
        legend(chart),
        table(chart),
        id = esc(chart.id)
    )
}

/// Axes and the y scale (0, half and the maximum), and the labels under the axis.
fn axes(svg: &mut String, chart: &Chart<'_>, f: &Frame) {
    let _ = write!(svg, r##"<g aria-hidden="true" font-size="11" fill="#57606a">"##);
    for tick in [0, f.max / 2, f.max] {
        let y = f.base - f.plot_h * tick as f64 / f.max as f64;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d0d7de"/><text x="{}" y="{:.1}" text-anchor="end">{tick}</text>"##,
            WIDTH - 8.0,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (i, (label, _)) in chart.groups.iter().enumerate() {
        // Every n-th label, and always the last one; a regular label too close to the last
        // one would overlap it.
        let last = chart.groups.len() - 1;
        let every = chart.label_every.max(1);
        if i != last && (i % every != 0 || (every > 1 && last - i < every.div_ceil(2))) {
            continue;
        }
        let x = LEFT + f.slot * (i as f64 + 0.5);
        let _ = write!(svg, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, f.base + 16.0, esc(label));
    }
    let _ = write!(svg, "</g>");
}

/// One bar per series in each group, each with its value as a tooltip.
fn bars(svg: &mut String, chart: &Chart<'_>, f: &Frame) {
    for (i, (label, values)) in chart.groups.iter().enumerate() {
        for (s, value) in values.iter().enumerate() {
            let h = f.plot_h * (*value).max(0) as f64 / f.max as f64;
            let x = LEFT + f.slot * i as f64 + f.slot * 0.1 + f.bar_w * s as f64;
            let name = chart.series.get(s).copied().unwrap_or_default();
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{}: {} {}</title></rect>"#,
                f.base - h,
                f.bar_w,
                COLOURS[s % COLOURS.len()],
                esc(label),
                esc(name),
                value
            );
        }
    }
}

fn legend(chart: &Chart<'_>) -> String {
    if chart.series.len() < 2 {
        return String::new();
    }
    let items: String = chart
        .series
        .iter()
        .enumerate()
        .map(|(s, name)| {
            format!(
                r#"<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="{}"/></svg> {}</li>"#,
                COLOURS[s % COLOURS.len()],
                esc(name)
            )
        })
        .collect();
    format!(r#"<ul class="chart-legend" aria-hidden="true">{items}</ul>"#)
}

fn table(chart: &Chart<'_>) -> String {
    let mut out = format!(
        // The table is for screen readers: hidden in a 1 px box that clips it (a table cannot be
        // made narrower than its cells, and hidden itself it widened the page on a phone).
        r#"<div class="visually-hidden"><table><caption>{}</caption><thead><tr><th scope="col">{}</th>"#,
        esc(chart.title),
        esc(chart.label_header)
    );
    for name in &chart.series {
        let _ = write!(out, r#"<th scope="col">{}</th>"#, esc(name));
    }
    out.push_str("</tr></thead><tbody>");
    for (label, values) in &chart.groups {
        let _ = write!(out, r#"<tr><th scope="row">{}</th>"#, esc(label));
        for v in values {
            let _ = write!(out, "<td>{v}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(groups: Vec<(String, Vec<i64>)>) -> String {
        render(&Chart {
            id: "c1",
            title: "Grants & withdrawals <30 days>",
            series: vec!["Granted", "Withdrawn"],
            groups,
            label_header: "Purpose",
            label_every: 1,
        })
    }

    #[test]
    fn one_bar_per_value_with_an_accessible_name() {
        let html = chart(vec![("service".into(), vec![5, 1]), ("marketing_sms".into(), vec![2, 0])]);
        assert_eq!(html.matches(r#"<rect class="bar""#).count(), 4);
        assert!(html.contains(r#"role="img""#));
        assert!(html.contains(r#"aria-label="Grants &amp; withdrawals &lt;30 days&gt;""#));
        assert!(html.contains(r#"<title id="c1-title">Grants &amp; withdrawals &lt;30 days&gt;</title>"#));
        assert!(html.contains("<title>service: Granted 5</title>"));
    }

    #[test]
    fn the_numbers_are_in_a_hidden_table_too() {
        let html = chart(vec![("service".into(), vec![5, 1])]);
        assert!(html.contains(r#"<div class="visually-hidden"><table>"#));
        assert!(html.contains(r#"<tr><th scope="row">service</th><td>5</td><td>1</td></tr>"#));
        assert!(html.contains(r#"<th scope="col">Withdrawn</th>"#));
    }

    #[test]
    fn the_tallest_bar_fills_the_plot_and_zeros_have_no_height() {
        let html = chart(vec![("a".into(), vec![10, 0])]);
        let plot_h = HEIGHT - TOP - BOTTOM;
        assert!(html.contains(&format!(r#"height="{plot_h:.1}""#)), "{html}");
        assert!(html.contains(r#"height="0.0""#));
        // An empty chart still renders an axis and no bars.
        let empty = chart(vec![]);
        assert_eq!(empty.matches(r#"<rect class="bar""#).count(), 0);
        assert!(empty.contains("</svg>"));
    }

    #[test]
    fn labels_can_be_thinned_but_the_last_is_kept() {
        let groups: Vec<(String, Vec<i64>)> = (0..30).map(|d| (format!("d{d}"), vec![d])).collect();
        let html = render(&Chart {
            id: "days",
            title: "Per day",
            series: vec!["Submissions"],
            groups,
            label_header: "Day",
            label_every: 7,
        });
        assert!(html.contains(">d0</text>") && html.contains(">d7</text>") && html.contains(">d29</text>"));
        assert!(!html.contains(">d1</text>"));
        assert_eq!(html.matches(r#"<rect class="bar""#).count(), 30);
    }
}
