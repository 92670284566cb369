//! The client a public page counts against its limits: the address the deployment's proxy
//! header names (`--client-ip-header`), as the tracker's and the dashboard's sign-in do, else
//! the peer. An IPv6 client counts by its /64, the least a host is given, so one machine
//! cannot take a fresh allowance from each of its addresses.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;

use crate::startup::AppState;

pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let app = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let ip = app
            .enricher
            .client_ip(&parts.headers, peer)
            .or(peer)
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(ClientIp(limit_key(ip)))
    }
}

/// `ip`, an IPv6 address cut to its /64.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_counts_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(other));
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(limit_key(v4), v4);
        assert_eq!(limit_key("::ffff:203.0.113.7".parse().unwrap()), v4);
    }
}
