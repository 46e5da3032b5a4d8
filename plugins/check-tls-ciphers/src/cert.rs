//! The certificate, through a real rustls handshake (TLS 1.3 encrypts it)
//! with a verifier that records the chain and its verdict instead of
//! failing, read with x509-parser.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::Serialize;
use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::AlgorithmIdentifier;

use crate::probe::{ConnectError, Ended, Prober};
use crate::suites::Version;
use crate::wire::{Hello, certificates};

/// Which certificate a handshake asks for, by the signatures it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Any,
    Ecdsa,
    Rsa,
}

/// The facts a verdict needs about one leaf certificate.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    /// `RSA`, `ECDSA`, `DSA`, `Ed25519`, `Ed448`, or `unknown`.
    pub key_type: String,
    /// The modulus for RSA and DSA, the curve's size for the others.
    pub key_bits: u32,
    /// The curve of an ECDSA key (`P-256`).
    pub curve: Option<String>,
    pub signature: String,
    /// The digest of the signature (`SHA-256`, `SHA-1`, `MD5`); `None` for
    /// Ed25519/Ed448, whose signatures name none, or an unknown algorithm.
    pub digest: Option<String>,
    pub not_before: i64,
    pub not_after: i64,
    /// The subjectAltName entries: DNS names as written, IP addresses.
    pub names: Vec<String>,
    /// The requested host is among the names (RFC 6125: a DNS host against
    /// the DNS names, an IP address against the IP addresses).
    pub name_matches: bool,
    /// Why the chain does not verify, `None` when it does.
    pub chain_error: Option<String>,
    pub chain_length: usize,
    /// The certificates sent after the leaf, in the server's order.
    pub intermediates: Vec<ChainCert>,
    /// The OCSP response stapled to the handshake that fetched it; `None`
    /// when not asked (the TLS ≤ 1.1 path reads no status).
    pub ocsp: Option<Stapled>,
    /// The protocol of the handshake that fetched it.
    pub protocol: String,
}

/// A certificate the server sent after its leaf.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChainCert {
    pub subject: String,
    pub issuer: String,
    pub signature: String,
    /// As [`CertFacts::digest`].
    pub digest: Option<String>,
    /// Issued by itself: a root, whose own signature no client checks.
    pub self_signed: bool,
}

/// What the server stapled to its certificate (RFC 6066 `status_request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stapled", rename_all = "kebab-case")]
pub enum Stapled {
    /// No response was stapled.
    None,
    /// A response about this certificate; its times judge its freshness.
    Response {
        status: OcspStatus,
        this_update: i64,
        next_update: Option<i64>,
    },
    /// Something was stapled that says nothing about this certificate.
    Unusable { reason: String },
}

/// The responder's word on the certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OcspStatus {
    Good,
    Revoked { at: i64, reason: Option<String> },
    Unknown,
}

/// Why no certificate could be read.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the TLS handshake with {host} failed")]
    Handshake {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the server's certificate is not X.509: {0}")]
    Parse(String),
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("{0}")]
    Setup(String),
}

/// The trust anchors: `--ca-file`, else the system's roots.
pub fn roots(ca_file: Option<&Path>) -> Result<Arc<rustls::RootCertStore>, CertError> {
    let mut store = rustls::RootCertStore::empty();
    if let Some(path) = ca_file {
        let ca_error = |reason: String| CertError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_error(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ca_error(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_error("no PEM certificate in it".into()));
        }
        let (added, _) = store.add_parsable_certificates(certs);
        if added == 0 {
            return Err(ca_error(
                "none of its certificates can be a trust anchor".into(),
            ));
        }
    } else {
        let found = rustls_native_certs::load_native_certs();
        store.add_parsable_certificates(found.certs);
    }
    Ok(Arc::new(store))
}

fn webpki_verifier(
    roots: &Arc<rustls::RootCertStore>,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, CertError> {
    WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
        .build()
        .map_err(|e| CertError::Setup(format!("no usable trust anchors: {e}")))
}

/// What one handshake showed: the chain as sent, webpki's verdict on it,
/// the stapled OCSP response (empty when none).
#[derive(Debug)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    verified: Result<(), rustls::Error>,
    ocsp: Vec<u8>,
}

#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    want: Want,
    seen: Mutex<Option<Seen>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map(|_| ());
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Seen {
            chain,
            verified,
            ocsp: ocsp.to_vec(),
        });
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let all = self.inner.supported_verify_schemes();
        all.into_iter()
            .filter(|scheme| {
                let name = format!("{scheme:?}");
                match self.want {
                    Want::Any => true,
                    Want::Ecdsa => name.starts_with("ECDSA"),
                    Want::Rsa => name.starts_with("RSA"),
                }
            })
            .collect()
    }
}

/// Handshakes with rustls and reads the leaf the server sent.
pub fn fetch(
    prober: &mut Prober,
    host: &str,
    roots: &Arc<rustls::RootCertStore>,
    want: Want,
) -> Result<CertFacts, CertError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = webpki_verifier(roots, &provider)?;
    let recorder = Arc::new(Recorder {
        inner,
        want,
        seen: Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CertError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    // The SNI goes out as asked; the name judged is the requested host.
    let sni = prober.sni.clone().unwrap_or_else(|| host.to_owned());
    let server_name = ServerName::try_from(sni.clone())
        .map_err(|_| CertError::Setup(format!("{sni:?} is not a valid TLS server name")))?;
    let mut connection = rustls::ClientConnection::new(Arc::new(config), server_name)
        .map_err(|e| CertError::Setup(e.to_string()))?;
    let mut stream = prober.connect()?;
    let _ = stream.set_read_timeout(Some(prober.patience()));
    let _ = stream.set_write_timeout(Some(prober.read_timeout));
    let handshake_error = |source| CertError::Handshake {
        host: prober.addr.to_string(),
        source,
    };
    while connection.is_handshaking() {
        if let Err(error) = connection.complete_io(&mut stream) {
            // A chain seen before a later failure still counts.
            if recorder.seen.lock().is_ok_and(|s| s.is_some()) {
                break;
            }
            return Err(handshake_error(error));
        }
    }
    let protocol = connection
        .protocol_version()
        .map_or_else(|| "unknown".to_owned(), |v| format!("{v:?}"));
    connection.send_close_notify();
    let _ = connection.complete_io(&mut stream);
    let _ = stream.flush();
    let seen = recorder
        .seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let Some(seen) = seen else {
        return Err(handshake_error(std::io::Error::other(
            "no certificate was sent",
        )));
    };
    facts(
        &seen.chain,
        seen.verified,
        Some(&seen.ocsp),
        &roots.roots,
        host,
        protocol,
    )
}

/// The chain from a TLS ≤ 1.1 flight, for servers rustls cannot talk to:
/// a hello with suites the server accepted, read to the Certificate
/// (plaintext before TLS 1.3), verified with webpki as a handshake would.
pub fn fetch_legacy(
    prober: &mut Prober,
    version: Version,
    suites: &[u16],
    host: &str,
    roots: &Arc<rustls::RootCertStore>,
) -> Result<CertFacts, CertError> {
    let sni = prober.sni.clone();
    let hello = Hello {
        version,
        suites,
        groups: &[29, 23, 24, 25],
        sni: sni.as_deref(),
    };
    let ended = prober.exchange(&hello, |bytes| certificates(bytes).is_some())?;
    let chain = match ended {
        Ended::Done(bytes) => certificates(&bytes).unwrap_or_default(),
        _ => Vec::new(),
    };
    if chain.is_empty() {
        return Err(CertError::Handshake {
            host: prober.addr.to_string(),
            source: std::io::Error::other(format!("no certificate in the {version} reply")),
        });
    }
    let chain: Vec<CertificateDer<'static>> = chain.into_iter().map(CertificateDer::from).collect();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = webpki_verifier(roots, &provider)?;
    let name = ServerName::try_from(sni.unwrap_or_else(|| host.to_owned()))
        .map_err(|_| CertError::Setup(format!("{host:?} is not a valid TLS server name")))?;
    let verified = webpki
        .verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
        .map(|_| ());
    facts(
        &chain,
        verified,
        None,
        &roots.roots,
        host,
        version.name().to_owned(),
    )
}

/// Reads the leaf of `chain` and what came with it: webpki's verdict on
/// the chain, the stapled OCSP response (`None`: not asked), checked
/// against the leaf's issuer among the chain and `anchors`.
pub fn facts(
    chain: &[CertificateDer<'_>],
    verified: Result<(), rustls::Error>,
    ocsp: Option<&[u8]>,
    anchors: &[TrustAnchor<'_>],
    host: &str,
    protocol: String,
) -> Result<CertFacts, CertError> {
    let parsed = chain
        .iter()
        .enumerate()
        .map(|(at, der)| {
            X509Certificate::from_der(der)
                .map(|(_, cert)| cert)
                .map_err(|e| CertError::Parse(format!("certificate {} of the chain: {e}", at + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (cert, rest) = parsed
        .split_first()
        .ok_or_else(|| CertError::Parse("empty chain".into()))?;
    let (key_type, key_bits, curve) = key_facts(cert);
    let (dns, ips) = alt_names(cert);
    let mut names = dns.clone();
    names.extend(ips.iter().map(ToString::to_string));
    let intermediates = rest
        .iter()
        .map(|c| ChainCert {
            subject: c.subject().to_string(),
            issuer: c.issuer().to_string(),
            signature: algorithm_name(&c.signature_algorithm),
            digest: digest_of(&c.signature_algorithm).map(str::to_owned),
            self_signed: self_signed(c),
        })
        .collect();
    Ok(CertFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        key_type: key_type.to_owned(),
        key_bits,
        curve,
        signature: algorithm_name(&cert.signature_algorithm),
        digest: digest_of(&cert.signature_algorithm).map(str::to_owned),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        name_matches: host_matches(&dns, &ips, host),
        names,
        chain_error: chain_problem(verified, cert, rest),
        chain_length: chain.len(),
        intermediates,
        ocsp: ocsp.map(|bytes| {
            read_stapled_signed(bytes, cert.raw_serial(), &issuer_keys(cert, rest, anchors))
        }),
        protocol,
    })
}

/// The key's type, its size in bits (the modulus for RSA and DSA, the
/// curve's size otherwise) and its curve.
fn key_facts(cert: &X509Certificate<'_>) -> (&'static str, u32, Option<String>) {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA", u32::try_from(rsa.key_size()).unwrap_or(0), None),
        Ok(PublicKey::EC(point)) => {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            let (name, bits) = match curve_oid.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("P-256", 256),
                Some("1.3.132.0.34") => ("P-384", 384),
                Some("1.3.132.0.35") => ("P-521", 521),
                Some("1.3.132.0.10") => ("secp256k1", 256),
                Some("1.3.36.3.3.2.8.1.1.7") => ("brainpoolP256r1", 256),
                Some("1.3.36.3.3.2.8.1.1.11") => ("brainpoolP384r1", 384),
                Some("1.3.36.3.3.2.8.1.1.13") => ("brainpoolP512r1", 512),
                // Explicit or unknown parameters: the point's size.
                _ => ("other", u32::try_from(point.key_size()).unwrap_or(0)),
            };
            ("ECDSA", bits, Some(name.to_owned()))
        }
        Ok(PublicKey::DSA(_)) => {
            // The size of a DSA key is that of its prime p, the first
            // integer of the algorithm's parameters (RFC 3279 2.3.2).
            let bits = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| x509_parser::asn1_rs::Integer::from_der(p.data).ok())
                .map_or(0, |(_, p)| significant_bits(p.any().data));
            ("DSA", bits, None)
        }
        _ => match spki.algorithm.algorithm.to_id_string().as_str() {
            "1.3.101.112" => ("Ed25519", 256, None),
            "1.3.101.113" => ("Ed448", 448, None),
            _ => ("unknown", 0, None),
        },
    }
}

/// The bits of a big-endian unsigned integer, leading zeros not counted.
fn significant_bits(bytes: &[u8]) -> u32 {
    let bytes = strip_zeros(bytes);
    bytes.first().map_or(0, |&first| {
        u32::try_from(bytes.len() - 1).unwrap_or(u32::MAX / 8) * 8 + (8 - first.leading_zeros())
    })
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// `sha256WithRSAEncryption`, or the dotted OID when unnamed.
fn algorithm_name(algorithm: &AlgorithmIdentifier<'_>) -> String {
    x509_parser::objects::oid2sn(&algorithm.algorithm, x509_parser::objects::oid_registry())
        .map_or_else(|_| algorithm.algorithm.to_id_string(), str::to_owned)
}

/// The digest a signature algorithm hashes with (RSA PKCS#1 and PSS,
/// ECDSA, DSA); `None` for Ed25519/Ed448 and unknown algorithms.
fn digest_of(algorithm: &AlgorithmIdentifier<'_>) -> Option<&'static str> {
    let oid = algorithm.algorithm.to_id_string();
    if oid == "1.2.840.113549.1.1.10" {
        // RSASSA-PSS names its hash in its parameters, SHA-1 by default
        // (RFC 4055).
        let hash = match &algorithm.parameters {
            Some(params) => x509_parser::signature_algorithm::RsaSsaPssParams::try_from(params)
                .ok()?
                .hash_algorithm_oid()
                .to_id_string(),
            None => "1.3.14.3.2.26".to_owned(),
        };
        return hash_name(&hash);
    }
    Some(match oid.as_str() {
        "1.2.840.113549.1.1.2" => "MD2",
        "1.2.840.113549.1.1.3" => "MD4",
        "1.2.840.113549.1.1.4" | "1.3.14.3.2.3" => "MD5",
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" => {
            "SHA-1"
        }
        "1.2.840.113549.1.1.14" | "1.2.840.10045.4.3.1" | "2.16.840.1.101.3.4.3.1" => "SHA-224",
        "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" | "2.16.840.1.101.3.4.3.2" => "SHA-256",
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => "SHA-384",
        "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => "SHA-512",
        _ => return None,
    })
}

fn hash_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.2.5" => "MD5",
        "1.3.14.3.2.26" => "SHA-1",
        "2.16.840.1.101.3.4.2.4" => "SHA-224",
        "2.16.840.1.101.3.4.2.1" => "SHA-256",
        "2.16.840.1.101.3.4.2.2" => "SHA-384",
        "2.16.840.1.101.3.4.2.3" => "SHA-512",
        _ => return None,
    })
}

fn self_signed(cert: &X509Certificate<'_>) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw()
}

/// The DNS names and IP addresses of the subjectAltName. The subject's CN
/// is not a name (RFC 6125 6.4.4, as browsers and webpki do).
fn alt_names(cert: &X509Certificate<'_>) -> (Vec<String>, Vec<IpAddr>) {
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(name) => dns.push((*name).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(octets) = <[u8; 4]>::try_from(*bytes) {
                        ips.push(IpAddr::from(octets));
                    } else if let Ok(octets) = <[u8; 16]>::try_from(*bytes) {
                        ips.push(IpAddr::from(octets));
                    }
                }
                _ => {}
            }
        }
    }
    (dns, ips)
}

/// Whether a certificate with these names is valid for `host`: an IP
/// address only by the IP addresses, a DNS name only by the DNS names.
#[must_use]
pub fn host_matches(dns: &[String], ips: &[IpAddr], host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ips.contains(&ip),
        Err(_) => dns.iter().any(|pattern| name_matches(pattern, host)),
    }
}

/// RFC 6125 6.4: a DNS name matches exactly (ASCII case-insensitive, a
/// trailing dot ignored) or by a wildcard that is the whole left-most label
/// (`*.example.org`: one label, never `example.org` or `a.b.example.org`;
/// no partial labels like `w*.example.org`; never under a single label
/// like `*.org`).
#[must_use]
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.contains('*') {
        return false;
    }
    if !pattern.contains('*') {
        return pattern == host;
    }
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return false;
    };
    if suffix.contains('*') || !suffix.contains('.') || suffix.split('.').any(str::is_empty) {
        return false;
    }
    host.split_once('.')
        .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix)
}

/// Why webpki rejects the chain, worded to follow "chain" (`incomplete:
/// …`, `from an unknown CA: …`, `does not verify: …`); `None` when it
/// verifies. A name mismatch and the leaf's own dates are judged from the
/// certificate itself, not twice.
fn chain_problem(
    verified: Result<(), rustls::Error>,
    leaf: &X509Certificate<'_>,
    rest: &[X509Certificate<'_>],
) -> Option<String> {
    let error = verified.err()?;
    match &error {
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => None,
        rustls::Error::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) if !leaf.validity().is_valid() => None,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            Some(missing_issuer(leaf, rest))
        }
        // Its context lists every algorithm webpki knows, as DER bytes.
        rustls::Error::InvalidCertificate(
            CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. },
        ) => Some("does not verify: a signature algorithm in it is one webpki refuses".to_owned()),
        _ => Some(format!("does not verify: {error}")),
    }
}

/// Tells an incomplete chain from an unknown CA, for a chain webpki could
/// not lead to a trust anchor. Follow the issuers through what the server
/// sent: ending at the leaf, the server did not send the leaf's issuer
/// (servers must send every intermediate; public CAs never issue leaves
/// from a root); ending at a sent CA, the chain leads to a root that is
/// not trusted.
fn missing_issuer(leaf: &X509Certificate<'_>, rest: &[X509Certificate<'_>]) -> String {
    let mut top = leaf;
    let mut used = vec![false; rest.len()];
    while !self_signed(top) {
        let next = rest
            .iter()
            .enumerate()
            .find(|(at, c)| !used[*at] && c.subject().as_raw() == top.issuer().as_raw());
        let Some((at, issuer)) = next else { break };
        used[at] = true;
        top = issuer;
    }
    if std::ptr::eq(top, leaf) && self_signed(leaf) {
        format!("self-signed: {} is not a trusted root", leaf.subject())
    } else if self_signed(top) {
        format!(
            "from an unknown CA: it ends at {}, which is not a trusted root",
            top.subject()
        )
    } else if std::ptr::eq(top, leaf) {
        format!(
            "incomplete: the server does not send the issuer of {} ({})",
            leaf.subject(),
            leaf.issuer()
        )
    } else {
        format!(
            "from an unknown CA: {}, the issuer of {}, is not a trusted root",
            top.issuer(),
            top.subject()
        )
    }
}

/// What a stapled OCSP response says about the certificate with serial
/// `serial` (its bytes as in the certificate).
#[must_use]
pub fn read_stapled(bytes: &[u8], serial: &[u8]) -> Stapled {
    if bytes.is_empty() {
        return Stapled::None;
    }
    parse_stapled(bytes, serial).unwrap_or_else(|reason| Stapled::Unusable { reason })
}

/// [`read_stapled`], and a response whose signature is neither the
/// issuer's (one of `issuer_keys`, subjectPublicKeyInfo contents) nor a
/// responder's the issuer certified (RFC 6960 4.2.2.2) is unusable: no
/// client believes it. With no issuer key known, the response is taken as
/// read.
fn read_stapled_signed(bytes: &[u8], serial: &[u8], issuer_keys: &[Vec<u8>]) -> Stapled {
    let stapled = read_stapled(bytes, serial);
    if !matches!(stapled, Stapled::Response { .. }) || issuer_keys.is_empty() {
        return stapled;
    }
    match staple_signed_by(bytes, issuer_keys) {
        Ok(true) => stapled,
        Ok(false) => Stapled::Unusable {
            reason: "its signature is not the issuer's nor a responder's it certified".into(),
        },
        Err(reason) => Stapled::Unusable { reason },
    }
}

/// The leaf's issuer's public keys (subjectPublicKeyInfo contents): the
/// certificate sent that names it, the trust anchors that do.
fn issuer_keys(
    leaf: &X509Certificate<'_>,
    rest: &[X509Certificate<'_>],
    anchors: &[TrustAnchor<'_>],
) -> Vec<Vec<u8>> {
    let issuer = leaf.issuer().as_raw();
    let mut keys: Vec<Vec<u8>> = rest
        .iter()
        .filter(|c| c.subject().as_raw() == issuer)
        .filter_map(|c| der_contents(c.public_key().raw).map(<[u8]>::to_vec))
        .collect();
    if let Some(name) = der_contents(issuer) {
        keys.extend(
            anchors
                .iter()
                .filter(|a| a.subject.as_ref() == name)
                .map(|a| a.subject_public_key_info.as_ref().to_vec()),
        );
    }
    keys
}

/// The contents of one DER element (its value, without tag and length).
fn der_contents(element: &[u8]) -> Option<&[u8]> {
    use der::Decode as _;
    der::asn1::AnyRef::from_der(element)
        .ok()
        .map(der::asn1::AnyRef::value)
}

/// Whether the response is signed by one of `issuer_keys`, or by a
/// responder certificate it carries that one of them signed.
fn staple_signed_by(bytes: &[u8], issuer_keys: &[Vec<u8>]) -> Result<bool, String> {
    const EXTENDED_KEY_USAGE: &str = "2.5.29.37";
    const OCSP_SIGNING: &[u8] = &[0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09];
    use der::Encode as _;

    // What was decoded encodes again; an error here is der's, not the server's.
    let unreadable = |e: der::Error| format!("the OCSP response does not encode again: {e}");
    let basic = basic_response(bytes)?;
    let signed = basic.tbs_response_data.to_der().map_err(unreadable)?;
    let algorithm = basic.signature_algorithm.to_der().map_err(unreadable)?;
    let signature = basic.signature.raw_bytes();
    let by = |keys: &[Vec<u8>]| {
        keys.iter()
            .any(|key| verifies(key, &algorithm, &signed, signature))
    };
    if by(issuer_keys) {
        return Ok(true);
    }
    // A delegated responder: its certificate, in the response, signed by
    // the issuer for OCSP signing.
    // Its extended key usage names OCSP signing (the DER of the OID inside
    // the extension's SEQUENCE OF OIDs).
    let responders = basic.certs.iter().flatten().filter(|c| {
        c.tbs_certificate
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id.to_string() == EXTENDED_KEY_USAGE)
            .any(|e| {
                e.extn_value
                    .as_bytes()
                    .windows(OCSP_SIGNING.len())
                    .any(|w| w == OCSP_SIGNING)
            })
    });
    for responder in responders {
        let tbs = responder.tbs_certificate.to_der().map_err(unreadable)?;
        let algorithm = responder.signature_algorithm.to_der().map_err(unreadable)?;
        let certified = issuer_keys
            .iter()
            .any(|key| verifies(key, &algorithm, &tbs, responder.signature.raw_bytes()));
        let key = responder
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(unreadable)?;
        if certified && der_contents(&key).is_some_and(|key| by(&[key.to_vec()])) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `signature` over `message` verifies with the subjectPublicKeyInfo
/// `key` (contents) under `algorithm` (a DER AlgorithmIdentifier), by the
/// algorithms rustls' provider (ring) verifies certificates with.
fn verifies(key: &[u8], algorithm: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use der::{Decode as _, Reader as _};
    let Some(algorithm) = der_contents(algorithm) else {
        return false;
    };
    let parts = der::SliceReader::new(key).and_then(|mut reader| {
        let key_algorithm = der::asn1::AnyRef::decode(&mut reader)?;
        let key = der::asn1::BitStringRef::decode(&mut reader)?;
        reader.finish((key_algorithm.value(), key.raw_bytes()))
    });
    let Ok((key_algorithm, key)) = parts else {
        return false;
    };
    rustls::crypto::ring::default_provider()
        .signature_verification_algorithms
        .all
        .iter()
        .filter(|v| {
            v.public_key_alg_id().as_ref() == key_algorithm
                && v.signature_alg_id().as_ref() == algorithm
        })
        .any(|v| v.verify_signature(key, message, signature).is_ok())
}

/// The basic response inside a stapled OCSP response.
fn basic_response(bytes: &[u8]) -> Result<x509_ocsp::BasicOcspResponse, String> {
    use der::Decode as _;
    use x509_ocsp::{BasicOcspResponse, OcspResponse, OcspResponseStatus};
    const BASIC: &str = "1.3.6.1.5.5.7.48.1.1";

    let response =
        OcspResponse::from_der(bytes).map_err(|e| format!("not an OCSP response: {e}"))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(format!(
            "the responder's status is {:?}",
            response.response_status
        ));
    }
    let body = response
        .response_bytes
        .ok_or("a successful OCSP response with no body")?;
    if body.response_type.to_string() != BASIC {
        return Err(format!(
            "an OCSP response of type {}, not basic",
            body.response_type
        ));
    }
    BasicOcspResponse::from_der(body.response.as_bytes())
        .map_err(|e| format!("not a basic OCSP response: {e}"))
}

fn parse_stapled(bytes: &[u8], serial: &[u8]) -> Result<Stapled, String> {
    use x509_ocsp::CertStatus;

    let basic = basic_response(bytes)?;
    let wanted = strip_zeros(serial);
    let responses = &basic.tbs_response_data.responses;
    let single = responses
        .iter()
        .find(|r| strip_zeros(r.cert_id.serial_number.as_bytes()) == wanted)
        .ok_or_else(|| {
            let about: Vec<String> = responses
                .iter()
                .map(|r| hex(strip_zeros(r.cert_id.serial_number.as_bytes())))
                .collect();
            format!(
                "the response is about serial {}, not the certificate's {}",
                about.join(", "),
                hex(wanted)
            )
        })?;
    let unix = |time: &x509_ocsp::OcspGeneralizedTime| {
        i64::try_from(time.0.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    };
    let status = match &single.cert_status {
        CertStatus::Good(_) => OcspStatus::Good,
        CertStatus::Revoked(info) => OcspStatus::Revoked {
            at: unix(&info.revocation_time),
            reason: info.revocation_reason.map(|r| format!("{r:?}")),
        },
        CertStatus::Unknown(_) => OcspStatus::Unknown,
    };
    Ok(Stapled::Response {
        status,
        this_update: unix(&single.this_update),
        next_update: single.next_update.as_ref().map(unix),
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02X}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A fixture of testdata/certs (made by its make.sh).
    fn pem(name: &str) -> CertificateDer<'static> {
        let path = format!("{}/testdata/certs/{name}.crt", env!("CARGO_MANIFEST_DIR"));
        CertificateDer::from_pem_file(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn der(name: &str) -> Vec<u8> {
        let path = format!("{}/testdata/certs/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn read(chain: &[&str], verified: Result<(), rustls::Error>) -> CertFacts {
        let chain: Vec<_> = chain.iter().map(|n| pem(n)).collect();
        facts(&chain, verified, None, &[], "localhost", "TLSv1_3".into()).unwrap()
    }

    fn read_ok(name: &str) -> CertFacts {
        read(&[name], Ok(()))
    }

    /// webpki's verdict on `chain` with `anchor` as the only root.
    fn webpki(chain: &[&str], anchor: &str) -> Result<(), rustls::Error> {
        let mut store = rustls::RootCertStore::empty();
        store.add(pem(anchor)).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = webpki_verifier(&Arc::new(store), &provider).unwrap();
        let chain: Vec<_> = chain.iter().map(|n| pem(n)).collect();
        verifier
            .verify_server_cert(
                &chain[0],
                &chain[1..],
                &ServerName::try_from("localhost").unwrap(),
                &[],
                UnixTime::now(),
            )
            .map(|_| ())
    }

    #[test]
    fn keys_by_type_and_size() {
        let rsa = read_ok("leaf");
        assert_eq!((rsa.key_type.as_str(), rsa.key_bits), ("RSA", 2048));
        let ec = read_ok("p384");
        assert_eq!(
            (ec.key_type.as_str(), ec.key_bits, ec.curve.as_deref()),
            ("ECDSA", 384, Some("P-384"))
        );
        let ed = read_ok("ed25519");
        assert_eq!((ed.key_type.as_str(), ed.key_bits), ("Ed25519", 256));
        let dsa = read_ok("dsa");
        assert_eq!((dsa.key_type.as_str(), dsa.key_bits), ("DSA", 2048));
    }

    #[test]
    fn signature_digests() {
        let digest = |name: &str| read_ok(name).digest;
        assert_eq!(digest("leaf").as_deref(), Some("SHA-256"));
        assert_eq!(digest("sha1").as_deref(), Some("SHA-1"));
        assert_eq!(digest("md5").as_deref(), Some("MD5"));
        assert_eq!(digest("pss").as_deref(), Some("SHA-384"));
        // A leaf is signed with its issuer's key: an Ed25519 key, RSA-signed.
        assert_eq!(digest("ed25519").as_deref(), Some("SHA-256"));
        assert_eq!(read_ok("md5").signature, "md5WithRSAEncryption");
    }

    #[test]
    fn the_chain_sent_is_described_root_included() {
        let facts = read(&["leaf", "inter-sha1", "root"], Ok(()));
        assert_eq!(facts.chain_length, 3);
        let sent: Vec<(&str, Option<&str>, bool)> = facts
            .intermediates
            .iter()
            .map(|c| (c.subject.as_str(), c.digest.as_deref(), c.self_signed))
            .collect();
        assert_eq!(
            sent,
            [
                ("CN=fixture intermediate", Some("SHA-1"), false),
                ("CN=fixture root", Some("SHA-256"), true)
            ]
        );
    }

    #[test]
    fn a_complete_chain_verifies() {
        let verified = webpki(&["leaf", "inter"], "root");
        assert!(verified.is_ok(), "{verified:?}");
        assert_eq!(read(&["leaf", "inter"], verified).chain_error, None);
    }

    #[test]
    fn a_missing_intermediate_is_an_incomplete_chain() {
        let verified = webpki(&["leaf"], "root");
        assert_eq!(
            read(&["leaf"], verified).chain_error.as_deref(),
            Some(
                "incomplete: the server does not send the issuer of CN=fixture leaf (CN=fixture intermediate)"
            )
        );
        // The root sent instead of the intermediate: still incomplete.
        let verified = webpki(&["leaf", "root"], "root");
        assert!(
            read(&["leaf", "root"], verified)
                .chain_error
                .is_some_and(|e| e.starts_with("incomplete: ")),
        );
    }

    #[test]
    fn a_chain_to_an_untrusted_root_is_an_unknown_ca() {
        // The anchor is a certificate that issued none of these.
        let verified = webpki(&["leaf", "inter"], "p384");
        assert_eq!(
            read(&["leaf", "inter"], verified).chain_error.as_deref(),
            Some(
                "from an unknown CA: CN=fixture root, the issuer of CN=fixture intermediate, is not a trusted root"
            )
        );
        let verified = webpki(&["leaf", "inter", "root"], "p384");
        assert_eq!(
            read(&["leaf", "inter", "root"], verified)
                .chain_error
                .as_deref(),
            Some("from an unknown CA: it ends at CN=fixture root, which is not a trusted root")
        );
    }

    #[test]
    fn a_self_signed_leaf_is_said_so() {
        let unknown = Err(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        assert_eq!(
            read(&["root"], unknown).chain_error.as_deref(),
            Some("self-signed: CN=fixture root is not a trusted root")
        );
    }

    #[test]
    fn a_refused_signature_algorithm_is_said_in_words() {
        let verified = webpki(&["sha1"], "inter");
        assert!(verified.is_err(), "webpki refuses SHA-1");
        assert_eq!(
            read(&["sha1"], verified).chain_error.as_deref(),
            Some("does not verify: a signature algorithm in it is one webpki refuses")
        );
    }

    #[test]
    fn other_chain_errors_and_name_errors() {
        let bad = Err(rustls::Error::InvalidCertificate(
            CertificateError::BadSignature,
        ));
        assert_eq!(
            read(&["leaf"], bad).chain_error.as_deref(),
            Some("does not verify: invalid peer certificate: BadSignature")
        );
        // The name is judged from the names, not webpki's verdict.
        let name = Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName,
        ));
        assert_eq!(read(&["leaf"], name).chain_error, None);
    }

    #[test]
    fn names_and_ip_addresses_match_by_kind() {
        let facts = read_ok("leaf");
        assert_eq!(
            facts.names,
            ["localhost", "*.example.org", "127.0.0.1", "::1"]
        );
        assert!(facts.name_matches);
        let dns = vec!["localhost".to_owned(), "127.0.0.2".to_owned()];
        let ips = vec![IpAddr::from([127, 0, 0, 1]), "::1".parse().unwrap()];
        assert!(host_matches(&dns, &ips, "127.0.0.1"));
        assert!(host_matches(&dns, &ips, "0:0:0:0:0:0:0:1"));
        assert!(host_matches(&dns, &ips, "[::1]"));
        // An IP address written as a DNS name is not an IP SAN.
        assert!(!host_matches(&dns, &ips, "127.0.0.2"));
        assert!(!host_matches(&[], &ips, "localhost"));
        assert!(host_matches(&dns, &[], "LOCALHOST."));
    }

    #[test]
    fn wildcards_per_rfc_6125() {
        assert!(name_matches("localhost", "LocalHost"));
        assert!(name_matches("*.example.org", "www.example.org"));
        assert!(name_matches("*.Example.org.", "WWW.example.ORG"));
        assert!(!name_matches("*.example.org", "a.b.example.org"));
        assert!(!name_matches("*.example.org", "example.org"));
        assert!(!name_matches("*.example.org", ".example.org"));
        // Partial labels, wildcards elsewhere, and under one label: never.
        assert!(!name_matches("w*.example.org", "www.example.org"));
        assert!(!name_matches("*w.example.org", "www.example.org"));
        assert!(!name_matches("www.*.org", "www.example.org"));
        assert!(!name_matches("*.*.org", "www.example.org"));
        assert!(!name_matches("*.org", "example.org"));
        assert!(!name_matches("*", "localhost"));
        assert!(!name_matches("*.example.org", "*.example.org"));
        assert!(!name_matches("localhost", "otherhost"));
    }

    fn label() -> impl Strategy<Value = String> {
        "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?"
    }

    proptest! {
        #[test]
        fn a_wildcard_covers_exactly_one_label(
            first in label(),
            extra in label(),
            domain in proptest::collection::vec(label(), 2..4),
        ) {
            let suffix = domain.join(".");
            let pattern = format!("*.{suffix}");
            let one = format!("{first}.{suffix}");
            let two = format!("{extra}.{first}.{suffix}");
            prop_assert!(name_matches(&pattern, &one));
            prop_assert!(!name_matches(&pattern, &suffix));
            prop_assert!(!name_matches(&pattern, &two));
            prop_assert!(name_matches(&suffix, &suffix.to_uppercase()));
        }

        #[test]
        fn any_stapled_bytes_read_without_panicking(
            bytes in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let _ = read_stapled(&bytes, &[1]);
        }

        #[test]
        fn a_cut_or_flipped_response_reads_without_panicking(
            cut in 1usize..1400,
            at in 0usize..1400,
            bit in 0u8..8,
        ) {
            let mut bytes = der("ocsp-good.der");
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            bytes.truncate(cut);
            let _ = read_stapled(&bytes, &[1, 0]);
        }
    }

    #[test]
    fn stapled_responses_good_revoked_and_for_another_certificate() {
        let serial = [0x01, 0x00];
        assert_eq!(read_stapled(&[], &serial), Stapled::None);
        let Stapled::Response {
            status,
            this_update,
            next_update,
        } = read_stapled(&der("ocsp-good.der"), &serial)
        else {
            panic!("a good response");
        };
        assert_eq!(status, OcspStatus::Good);
        assert_eq!(next_update, Some(this_update + 7 * 86_400));
        let Stapled::Response { status, .. } = read_stapled(&der("ocsp-revoked.der"), &serial)
        else {
            panic!("a revoked response");
        };
        assert_eq!(
            status,
            OcspStatus::Revoked {
                at: 1_735_689_600,
                reason: Some("KeyCompromise".into())
            }
        );
        assert_eq!(
            read_stapled(&der("ocsp-good.der"), &[0x02]),
            Stapled::Unusable {
                reason: "the response is about serial 0100, not the certificate's 02".into()
            }
        );
        assert!(matches!(
            read_stapled(b"not DER", &serial),
            Stapled::Unusable { reason } if reason.starts_with("not an OCSP response")
        ));
    }

    /// The subjectPublicKeyInfo contents of a fixture.
    fn key_of(name: &str) -> Vec<u8> {
        let cert = pem(name);
        let (_, parsed) = X509Certificate::from_der(&cert).unwrap();
        der_contents(parsed.public_key().raw).unwrap().to_vec()
    }

    #[test]
    fn a_staple_counts_only_signed_by_the_issuer() {
        let good = der("ocsp-good.der");
        let serial = [0x01, 0x00];
        assert!(matches!(
            read_stapled_signed(&good, &serial, &[key_of("inter")]),
            Stapled::Response { .. }
        ));
        assert_eq!(
            read_stapled_signed(&good, &serial, &[key_of("p384")]),
            Stapled::Unusable {
                reason: "its signature is not the issuer's nor a responder's it certified".into()
            }
        );
        // The root certified the intermediate that signed it, but not for
        // OCSP signing: no delegated responder.
        assert!(matches!(
            read_stapled_signed(&good, &serial, &[key_of("root")]),
            Stapled::Unusable { .. }
        ));
        // No issuer key known: as read.
        assert!(matches!(
            read_stapled_signed(&good, &serial, &[]),
            Stapled::Response { .. }
        ));
        // producedAt one second later, the signature as it was.
        let mut forged = good.clone();
        let at = forged
            .windows(2)
            .position(|w| w == [0x18, 0x0F])
            .expect("a GeneralizedTime");
        forged[at + 2 + 13] ^= 1;
        assert!(matches!(
            read_stapled_signed(&forged, &serial, &[key_of("inter")]),
            Stapled::Unusable { .. }
        ));
    }

    #[test]
    fn the_issuer_is_found_among_the_chain_and_the_anchors() {
        let (leaf_der, inter_der, root_der) = (pem("leaf"), pem("inter"), pem("root"));
        let (_, leaf) = X509Certificate::from_der(&leaf_der).unwrap();
        let (_, inter) = X509Certificate::from_der(&inter_der).unwrap();
        let (_, root) = X509Certificate::from_der(&root_der).unwrap();
        assert_eq!(issuer_keys(&leaf, &[root, inter], &[]), [key_of("inter")]);
        let mut store = rustls::RootCertStore::empty();
        store.add(inter_der.clone()).unwrap();
        assert_eq!(issuer_keys(&leaf, &[], &store.roots), [key_of("inter")]);
        let chain = [pem("leaf")];
        let facts = facts(
            &chain,
            Ok(()),
            Some(&der("ocsp-good.der")),
            &store.roots,
            "localhost",
            "TLSv1_3".into(),
        )
        .unwrap();
        assert!(matches!(
            facts.ocsp,
            Some(Stapled::Response {
                status: OcspStatus::Good,
                ..
            })
        ));
    }

    #[test]
    fn the_leafs_serial_finds_its_response() {
        let chain = [pem("leaf")];
        let facts = facts(
            &chain,
            Ok(()),
            Some(&der("ocsp-revoked.der")),
            &[],
            "localhost",
            "TLSv1_2".into(),
        )
        .unwrap();
        assert!(matches!(
            facts.ocsp,
            Some(Stapled::Response {
                status: OcspStatus::Revoked { .. },
                ..
            })
        ));
    }
}
