//! What the demo shop is made of. Weights are relative.

pub(crate) const PAGES: &[(&str, &str)] = &[
    ("/", "Acme Widgets — Home"),
    ("/pricing", "Pricing"),
    ("/products", "All products"),
    ("/products/widget", "Widget Product Page"),
    ("/products/gadget", "Gadget Product Page"),
    ("/products/gizmo", "Gizmo Product Page"),
    ("/blog", "Blog"),
    ("/blog/launch-week", "Launch week, day by day"),
    (
        "/blog/gdpr-exports",
        "How we answer data requests in minutes",
    ),
    ("/docs", "Documentation"),
    ("/docs/api", "API reference"),
    ("/about", "About us"),
    ("/contact", "Contact"),
    ("/signup", "Create your account"),
];

pub(crate) const REFERRERS: &[(Option<&str>, u32)] = &[
    (None, 40),
    (Some("https://www.google.com/"), 25),
    (Some("https://duckduckgo.com/"), 6),
    (Some("https://news.ycombinator.com/"), 8),
    (Some("https://twitter.com/"), 6),
    (Some("https://www.linkedin.com/"), 5),
    (Some("https://github.com/"), 6),
    (Some("https://www.reddit.com/r/webdev/"), 4),
];

pub(crate) const DEVICES: &[(&str, u32)] = &[("desktop", 55), ("mobile", 38), ("tablet", 7)];

pub(crate) const DESKTOP_BROWSERS: &[(&str, u32)] = &[
    ("Chrome", 62),
    ("Firefox", 12),
    ("Safari", 12),
    ("Edge", 12),
    ("Opera", 2),
];

pub(crate) const MOBILE_BROWSERS: &[(&str, u32)] =
    &[("Safari", 48), ("Chrome", 44), ("Samsung Internet", 8)];

pub(crate) const COUNTRIES: &[(&str, u32)] = &[
    ("US", 30),
    ("DE", 12),
    ("GB", 10),
    ("FR", 7),
    ("IN", 8),
    ("BR", 5),
    ("CA", 5),
    ("NL", 4),
    ("JP", 4),
    ("AU", 4),
    ("ES", 4),
    ("SE", 3),
];

/// (product id, price, product page)
pub(crate) const PRODUCTS: &[(&str, f64, &str)] = &[
    ("SKU-001", 99.99, "/products/widget"),
    ("SKU-002", 24.5, "/products/gadget"),
    ("SKU-003", 149.0, "/products/gizmo"),
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Ada", "Björn", "Chloé", "Dmitri", "Emeka", "Fatima", "Grace", "Hiroshi", "Inés", "Jonas",
    "Kavya", "Liam", "Mei", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomás",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Okafor",
    "Müller",
    "Dubois",
    "Ivanova",
    "Smith",
    "Tanaka",
    "García",
    "Haddad",
    "Kowalski",
    "Nguyen",
    "O'Brien",
    "Rossi",
    "Silva",
    "Johansson",
    "Patel",
    "Schmidt",
];

pub(crate) const COMPANIES: &[&str] = &[
    "Acme Inc",
    "Globex",
    "Initech",
    "Umbrella, Ltd.",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Soylent \"Green\" Corp",
];

pub(crate) const PLANS: &[(&str, u32)] = &[("free", 60), ("pro", 30), ("team", 10)];
