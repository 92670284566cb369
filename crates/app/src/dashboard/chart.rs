//! The overview's daily chart as plain geometry for an inline SVG: bars in a fixed view box
//! (the SVG scales to any width), a y axis of round steps, and a date label on a few bars so
//! labels never overlap however many days there are. Nothing here is text from a tracked page.

use ferry_domain::analytics::DayPoint;

pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 240;
/// Room left of the plot for the y labels, and below it for the dates.
const LEFT: u32 = 56;
const BOTTOM: u32 = 24;
const TOP: u32 = 16;
/// At most this many date labels under the bars.
const LABELS: usize = 7;

pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// Shown on hover and read by screen readers: `2024-05-01: 12 page views`.
    pub title: String,
    /// The date under the bar, on a few bars only.
    pub label: Option<String>,
}

pub struct Tick {
    pub y: f64,
    /// The step's value short enough for the room left of the plot: `250k`, `1.5M`.
    pub label: String,
}

fn short(v: u64) -> String {
    match v {
        0..1_000 => v.to_string(),
        1_000..1_000_000 => trimmed(v as f64 / 1e3, "k"),
        _ => trimmed(v as f64 / 1e6, "M"),
    }
}

fn trimmed(v: f64, unit: &str) -> String {
    let text = format!("{v:.1}");
    format!("{}{unit}", text.strip_suffix(".0").unwrap_or(&text))
}

pub struct Chart {
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    pub left: u32,
    pub right: u32,
    pub baseline: u32,
}

/// The smallest of 1, 2, 5 × 10ⁿ at least `max / 4`: four round steps cover every bar.
fn step(max: u64) -> u64 {
    let target = max.div_ceil(4).max(1);
    let mut base = 1u64;
    loop {
        for m in [1, 2, 5] {
            if base.saturating_mul(m) >= target {
                return base * m;
            }
        }
        base = base.saturating_mul(10);
    }
}

pub fn daily(points: &[DayPoint]) -> Chart {
    let plot_h = f64::from(HEIGHT - BOTTOM - TOP);
    let plot_w = f64::from(WIDTH - LEFT);
    let max = points.iter().map(|p| p.pageviews).max().unwrap_or(0);
    let step = step(max);
    let top = step * 4;
    let scale = |v: u64| plot_h * v as f64 / top as f64;
    let slot = plot_w / points.len().max(1) as f64;
    let every = points.len().div_ceil(LABELS).max(1);
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let height = scale(p.pageviews);
            Bar {
                x: f64::from(LEFT) + slot * i as f64 + slot * 0.1,
                y: f64::from(HEIGHT - BOTTOM) - height,
                width: slot * 0.8,
                height,
                title: format!("{}: {} page views", p.date, p.pageviews),
                label: (i % every == 0).then(|| p.date.format("%b %-d").to_string()),
            }
        })
        .collect();
    let ticks = (0..=4)
        .map(|k| Tick {
            y: f64::from(HEIGHT - BOTTOM) - scale(step * k),
            label: short(step * k),
        })
        .collect();
    Chart {
        bars,
        ticks,
        left: LEFT,
        right: WIDTH,
        baseline: HEIGHT - BOTTOM,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use ferry_domain::analytics::DayPoint;

    fn day(d: u32, pageviews: u64) -> DayPoint {
        DayPoint {
            date: NaiveDate::from_ymd_opt(2024, 5, d).unwrap(),
            pageviews,
            visitors: 0,
            sessions: 0,
            events: 0,
        }
    }

    #[test]
    fn steps_are_round_and_cover_the_tallest_bar() {
        assert_eq!(super::step(0), 1);
        assert_eq!(super::step(7), 2);
        assert_eq!(super::step(130), 50);
        assert_eq!(super::step(1_000_000), 500_000);
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(super::short(500), "500");
        assert_eq!(super::short(250_000), "250k");
        assert_eq!(super::short(1_500_000), "1.5M");
        assert_eq!(super::short(2_000_000), "2M");
    }

    #[test]
    fn the_tallest_bar_fits_and_labels_are_sparse() {
        let points: Vec<_> = (1..=30).map(|d| day(d, u64::from(d) * 10)).collect();
        let chart = super::daily(&points);
        assert_eq!(chart.bars.len(), 30);
        assert!(chart.bars.iter().all(|b| b.y >= 0.0 && b.height >= 0.0));
        assert!(chart.bars.iter().filter(|b| b.label.is_some()).count() <= 7);
        assert_eq!(chart.ticks.last().unwrap().label, "400");
        assert_eq!(chart.bars[0].title, "2024-05-01: 10 page views");
    }
}
