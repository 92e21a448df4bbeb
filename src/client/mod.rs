//! The EAS client: HTTP over reqwest (rustls), MS-ASHTTP request lines,
//! OPTIONS discovery, automatic provisioning, redirects, limits.
