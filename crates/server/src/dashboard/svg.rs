//! Charts as server-rendered inline SVG: no chart script, readable without colour (each
//! series has its own dash pattern and marker shape, a legend and end labels), colours from
//! CSS variables so light and dark mode both work, and the numbers also in a table.

use super::html::esc;

/// One series of a line chart: a name (also its CSS class suffix) and a value per x.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<i64>,
}

/// Dash pattern and marker per series position (colour is never the only signal).
const STYLES: [(&str, &str); 5] = [
    ("", "circle"),
    ("6 3", "square"),
    ("2 3", "triangle"),
    ("8 3 2 3", "diamond"),
    ("1 2", "cross"),
];

fn marker(shape: &str, x: f64, y: f64) -> String {
    match shape {
        "square" => format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"6\" height=\"6\"/>",
            x - 3.0,
            y - 3.0
        ),
        "triangle" => format!("<path d=\"M{:.1} {:.1} l4 7 h-8 z\"/>", x, y - 4.0),
        "diamond" => format!("<path d=\"M{:.1} {:.1} l4 4 l-4 4 l-4 -4 z\"/>", x, y - 4.0),
        "cross" => format!(
            "<path d=\"M{:.1} {:.1} l6 6 m0 -6 l-6 6\" fill=\"none\"/>",
            x - 3.0,
            y - 3.0
        ),
        _ => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\"/>"),
    }
}

/// A line chart of `series` over `labels` (days), `id` naming its title for screen readers.
pub fn line_chart(id: &str, title: &str, labels: &[String], series: &[Series<'_>]) -> String {
    let (w, h) = (760.0_f64, 260.0_f64);
    let (left, right, top, bottom) = (48.0, 96.0, 16.0, 36.0);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    // A round top for the axis: 1, 2, 5 × 10^n.
    let mut top_value = 1_i64;
    'outer: for mag in 0..18 {
        for m in [1, 2, 5] {
            let v = m * 10_i64.pow(mag);
            if v >= max {
                top_value = v;
                break 'outer;
            }
        }
    }
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: i64| top + plot_h - plot_h * v as f64 / top_value as f64;
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-title\" data-chart=\"{id}\">\
         <title id=\"{id}-title\">{}</title>",
        esc(title)
    );
    // Grid and y axis labels.
    for step in 0..=4 {
        let v = top_value * step / 4;
        let yy = y(v);
        out.push_str(&format!(
            "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v}</text>",
            left + plot_w,
            left - 6.0,
            yy + 4.0
        ));
    }
    // X labels: first, middle, last.
    let mut ticks = vec![0, n / 2, n - 1];
    ticks.dedup();
    for i in ticks {
        if let Some(label) = labels.get(i) {
            out.push_str(&format!(
                "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x(i),
                h - 12.0,
                esc(label)
            ));
        }
    }
    for (k, s) in series.iter().enumerate() {
        let (dash, shape) = STYLES[k % STYLES.len()];
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        out.push_str(&format!(
            "<g class=\"series sev-{}\" data-series=\"{}\">",
            esc(s.name),
            esc(s.name)
        ));
        out.push_str(&format!(
            "<polyline fill=\"none\" stroke-width=\"2\"{dash_attr} points=\"{}\"/>",
            points.join(" ")
        ));
        // Markers only when there are few points, so long ranges stay legible.
        if s.values.len() <= 31 {
            for (i, v) in s.values.iter().enumerate() {
                out.push_str(&marker(shape, x(i), y(*v)));
            }
        }
        out.push_str("</g>");
    }
    // End labels ("critical 3"), spread apart so close values stay readable.
    let mut ends: Vec<(f64, String, &str)> = series
        .iter()
        .filter_map(|s| {
            s.values
                .last()
                .map(|v| (y(*v), format!("{} {v}", s.name), s.name))
        })
        .collect();
    ends.sort_by(|a, b| a.0.total_cmp(&b.0));
    let gap = 12.0;
    for i in 1..ends.len() {
        if ends[i].0 < ends[i - 1].0 + gap {
            ends[i].0 = ends[i - 1].0 + gap;
        }
    }
    // Pushed below the plot: shift the whole stack back up.
    let overflow = ends.last().map(|e| e.0 - (top + plot_h)).unwrap_or(0.0);
    if overflow > 0.0 {
        for e in &mut ends {
            e.0 -= overflow;
        }
    }
    for (yy, text, name) in &ends {
        out.push_str(&format!(
            "<text class=\"end-label sev-{}\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            esc(name),
            left + plot_w + 8.0,
            yy.max(top) + 4.0,
            esc(text)
        ));
    }
    out.push_str("</svg>");
    // The legend, with each series' pattern drawn in it.
    out.push_str("<ul class=\"legend\">");
    for (k, s) in series.iter().enumerate() {
        let (dash, shape) = STYLES[k % STYLES.len()];
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        out.push_str(&format!(
            "<li><svg class=\"sev-{name}\" width=\"36\" height=\"12\" aria-hidden=\"true\"><line x1=\"0\" x2=\"36\" y1=\"6\" y2=\"6\" stroke-width=\"2\"{dash_attr}/>{}</svg> {name}</li>",
            marker(shape, 18.0, 6.0),
            name = esc(s.name)
        ));
    }
    out.push_str("</ul>");
    out
}

/// A small line of open findings per day, for a table cell.
pub fn sparkline(values: &[i64]) -> String {
    if values.is_empty() {
        return "<span class=\"muted\">no history</span>".into();
    }
    let (w, h) = (96.0_f64, 22.0_f64);
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let n = values.len();
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = if n == 1 {
                w / 2.0
            } else {
                2.0 + (w - 4.0) * i as f64 / (n - 1) as f64
            };
            let y = h - 2.0 - (h - 4.0) * *v as f64 / max as f64;
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let first = values.first().copied().unwrap_or(0);
    let last = values.last().copied().unwrap_or(0);
    format!(
        "<svg class=\"spark\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"open findings over {n} days: {first} to {last}\">\
         <polyline fill=\"none\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        points.join(" ")
    )
}

/// Horizontal bars of counts by severity, each labelled with its name and number.
pub fn severity_bars(id: &str, counts: &[(&str, i64)]) -> String {
    let max = counts.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let (w, row) = (420.0_f64, 22.0_f64);
    let h = row * counts.len() as f64 + 4.0;
    let mut out = format!(
        "<svg class=\"bars\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-title\" data-chart=\"{id}\">\
         <title id=\"{id}-title\">Open findings by severity</title>"
    );
    for (i, (name, n)) in counts.iter().enumerate() {
        let y = 2.0 + row * i as f64;
        let bw = (w - 180.0) * *n as f64 / max as f64;
        out.push_str(&format!(
            "<g class=\"sev-{name}\" data-series=\"{name}\" data-value=\"{n}\"><text class=\"axis\" x=\"0\" y=\"{:.1}\">{name}</text>\
             <rect x=\"80\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\">{n}</text></g>",
            y + 15.0,
            y + 3.0,
            row - 6.0,
            86.0 + bw,
            y + 15.0
        ));
    }
    out.push_str("</svg>");
    out
}
