//! Visitors of a small web shop: sessions of one to eight pages, product views that lead to
//! carts and purchases, sign-ups, and about a third of visitors identified as users (some on a
//! second device). Visitor by visitor, in time order.

use chrono::{Duration, NaiveTime, TimeZone, Utc};
use ferry_domain::{Activity, ActivityKind, Identify, IngestLine, Millis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::catalog::*;

const MINUTE: Millis = 60_000;
/// Sessions of one visitor are at least this far apart, so each counts as its own session.
const SESSION_SPACING: Millis = 31 * MINUTE;

#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub website_id: String,
    pub visitors: u32,
    pub days: u32,
    pub seed: u64,
    /// No activity at or after this instant.
    pub end: Millis,
}

impl DemoSpec {
    /// Midnight UTC starting the first day of data.
    pub fn start(&self) -> Millis {
        let end_date = Utc
            .timestamp_millis_opt(self.end)
            .single()
            .unwrap_or_default()
            .date_naive();
        let first = end_date - Duration::days(i64::from(self.days.max(1)) - 1);
        first.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
    }
}

/// What was generated, to compare against what the API reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub visitors: u64,
    pub sessions: u64,
    pub pageviews: u64,
    pub events: u64,
    pub users: u64,
    pub lines: u64,
}

pub struct Generator {
    spec: DemoSpec,
    rng: ChaCha8Rng,
    start: Millis,
    next_visitor: u32,
    pub tally: Tally,
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (item, weight) in items {
        if roll < *weight {
            return *item;
        }
        roll -= weight;
    }
    items[items.len() - 1].0
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// One visitor's device as seen by the tracker.
struct Device {
    visitor_id: String,
    device: &'static str,
    browser: &'static str,
    country: &'static str,
}

impl Generator {
    pub fn new(spec: DemoSpec) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(spec.seed),
            start: spec.start(),
            spec,
            next_visitor: 0,
            tally: Tally::default(),
        }
    }

    /// How many visitors have been generated so far.
    pub fn visitors_done(&self) -> u32 {
        self.next_visitor
    }

    /// The next visitors' lines, at least `min` of them unless the data is exhausted.
    pub fn next_batch(&mut self, min: usize) -> Option<Vec<IngestLine>> {
        let mut out = Vec::with_capacity(min + 64);
        while out.len() < min && self.next_visitor < self.spec.visitors {
            let index = self.next_visitor;
            self.next_visitor += 1;
            self.person(index, &mut out);
        }
        self.tally.lines += out.len() as u64;
        (!out.is_empty()).then_some(out)
    }

    fn device(&mut self, visitor_id: String, forced: Option<&'static str>) -> Device {
        let device = forced.unwrap_or_else(|| pick(&mut self.rng, DEVICES));
        let browsers = if device == "desktop" {
            DESKTOP_BROWSERS
        } else {
            MOBILE_BROWSERS
        };
        Device {
            visitor_id,
            device,
            browser: pick(&mut self.rng, browsers),
            country: pick(&mut self.rng, COUNTRIES),
        }
    }

    fn person(&mut self, index: u32, out: &mut Vec<IngestLine>) {
        let main = self.device(format!("vis_{index:07}"), None);
        let identity = (self.rng.random_bool(0.3)).then(|| self.identity(index));
        let country = main.country;
        let mut known = self.visits(&main, identity.as_ref(), out);
        // Some known users come back on their phone: a second visitor, the same person.
        if identity.is_some() && self.rng.random_bool(0.1) {
            let mut phone = self.device(format!("vis_{index:07}_m"), Some("mobile"));
            phone.country = country;
            known |= self.visits(&phone, identity.as_ref(), out);
        }
        self.tally.users += u64::from(known);
    }

    fn identity(&mut self, index: u32) -> Identify {
        let first = FIRST_NAMES[self.rng.random_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[self.rng.random_range(0..LAST_NAMES.len())];
        let mut properties = Map::new();
        properties.insert("plan".into(), json!(pick(&mut self.rng, PLANS)));
        properties.insert(
            "company".into(),
            json!(COMPANIES[self.rng.random_range(0..COMPANIES.len())]),
        );
        Identify {
            website_id: self.spec.website_id.clone(),
            visitor_id: String::new(),
            user_id: format!("user_{index}"),
            email: Some(format!(
                "{}.{}{index}@example.com",
                ascii_lower(first),
                ascii_lower(last)
            )),
            name: Some(format!("{first} {last}")),
            properties,
            created_at: None,
            trust: ferry_domain::LinkTrust::Keyed,
        }
    }

    /// All sessions of one visitor; whether it was identified.
    fn visits(
        &mut self,
        d: &Device,
        identity: Option<&Identify>,
        out: &mut Vec<IngestLine>,
    ) -> bool {
        let (start, end) = (self.start, self.spec.end);
        let span = (end - start).max(2 * 60 * MINUTE);
        let mut at = start + self.rng.random_range(0..span - 60 * MINUTE);
        let sessions = 1 + (0..7).take_while(|_| self.rng.random_bool(0.45)).count();
        let mut identified = false;
        let mut counted = false;
        for _ in 0..sessions {
            if at >= end - 60 * MINUTE {
                break;
            }
            let last = self.session(d, at, out);
            self.tally.sessions += 1;
            if !counted {
                counted = true;
                self.tally.visitors += 1;
            }
            if let (Some(who), false) = (identity, identified) {
                identified = true;
                let mut line = who.clone();
                line.visitor_id = d.visitor_id.clone();
                line.created_at = Some(at);
                out.push(IngestLine::Identify(line));
            }
            at = last + SESSION_SPACING + self.rng.random_range(0..10 * 24 * 60 * MINUTE);
        }
        identified
    }

    /// One session starting at `at`; returns the time of its last activity.
    fn session(&mut self, d: &Device, at: Millis, out: &mut Vec<IngestLine>) -> Millis {
        let pages = pick(
            &mut self.rng,
            &[
                (1usize, 30),
                (2, 18),
                (3, 15),
                (4, 12),
                (5, 9),
                (6, 7),
                (7, 5),
                (8, 4),
            ],
        );
        let mut now = at;
        let mut previous: Option<&'static str> = None;
        let mut cart: Option<(&'static str, f64, u32)> = None;
        for n in 0..pages {
            if n > 0 {
                now += self.rng.random_range(5_000..8 * MINUTE);
            }
            if now >= self.spec.end {
                break;
            }
            let (url, title) = match (n, cart) {
                (_, Some(_)) if self.rng.random_bool(0.5) => ("/checkout", "Checkout"),
                _ => PAGES[self.rng.random_range(0..PAGES.len())],
            };
            let referrer = match previous {
                Some(p) => Some(format!("https://{}{p}", "shop.example.com")),
                None => pick(&mut self.rng, REFERRERS).map(str::to_string),
            };
            self.pageview(d, now, url, title, referrer, out);
            previous = Some(url);
            let gap = self.rng.random_range(2_000..60_000);
            if now + gap >= self.spec.end {
                continue;
            }
            if let Some(&(sku, price, _)) = PRODUCTS.iter().find(|p| p.2 == url) {
                if self.rng.random_bool(0.35) {
                    now += gap;
                    let quantity = self.rng.random_range(1..=3);
                    cart = Some((sku, price, quantity));
                    self.event(
                        d,
                        now,
                        "add_to_cart",
                        json!({"product_id": sku, "price": price, "quantity": quantity}),
                        out,
                    );
                }
            } else if url == "/checkout" {
                if let Some((sku, price, quantity)) = cart.take() {
                    now += gap;
                    let order = format!("ord_{:08x}", self.rng.random::<u32>());
                    self.event(d, now, "purchase", json!({"product_id": sku, "price": price, "quantity": quantity, "order_id": order}), out);
                }
            } else if url == "/signup" && self.rng.random_bool(0.5) {
                now += gap;
                let plan = pick(&mut self.rng, PLANS);
                self.event(d, now, "signup", json!({"plan": plan}), out);
            } else if url.starts_with("/docs") && self.rng.random_bool(0.1) {
                now += gap;
                self.event(d, now, "download", json!({"file": "ferry-guide.pdf"}), out);
            }
        }
        now
    }

    fn pageview(
        &mut self,
        d: &Device,
        at: Millis,
        url: &str,
        title: &str,
        referrer: Option<String>,
        out: &mut Vec<IngestLine>,
    ) {
        self.tally.pageviews += 1;
        out.push(IngestLine::Activity(Activity {
            website_id: self.spec.website_id.clone(),
            visitor_id: d.visitor_id.clone(),
            at,
            kind: ActivityKind::Pageview {
                url: url.to_string(),
                title: Some(title.to_string()),
                referrer,
            },
            device: Some(d.device.to_string()),
            browser: Some(d.browser.to_string()),
            country: Some(d.country.to_string()),
        }));
    }

    fn event(
        &mut self,
        d: &Device,
        at: Millis,
        name: &str,
        properties: Value,
        out: &mut Vec<IngestLine>,
    ) {
        self.tally.events += 1;
        let properties = match properties {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        out.push(IngestLine::Activity(Activity {
            website_id: self.spec.website_id.clone(),
            visitor_id: d.visitor_id.clone(),
            at,
            kind: ActivityKind::Event {
                name: name.to_string(),
                properties,
            },
            device: None,
            browser: None,
            country: None,
        }));
    }
}
