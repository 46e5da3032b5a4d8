//! Erlang/OTP `ssl`'s spellings of a suite: the old-style tuple
//! (`{ecdhe_rsa,aes_256_gcm,aead,sha384}`) and the map
//! (`#{key_exchange => ecdhe_rsa, cipher => aes_256_gcm, mac => aead, prf => sha384}`),
//! as written in `sys.config`, `rabbitmq.conf`'s advanced config or an
//! `ssl:listen` call.

/// The suite `text` spells, in the registry's canonical tuple form (what
/// OTP's `~w` prints: three elements when the PRF is `default_prf`, atoms
/// quoted only where Erlang needs it). `None` when `text` is no tuple or
/// map of four atoms (or three, for a tuple).
pub(super) fn canonical(text: &str) -> Option<String> {
    let text = text.trim();
    let (body, map) = if let Some(rest) = text.strip_prefix("#{") {
        (rest.strip_suffix('}')?, true)
    } else {
        (text.strip_prefix('{')?.strip_suffix('}')?, false)
    };
    let items: Vec<&str> = body.split(',').map(str::trim).collect();
    let mut fields = [None::<String>, None, None, None];
    for (position, item) in items.iter().enumerate() {
        let (slot, value) = if map {
            let (key, value) = item.split_once("=>")?;
            let slot = match atom(key)?.as_str() {
                "key_exchange" => 0,
                "cipher" => 1,
                "mac" => 2,
                "prf" => 3,
                _ => return None,
            };
            (slot, value)
        } else {
            (position, *item)
        };
        if slot >= fields.len() || fields[slot].is_some() {
            return None;
        }
        fields[slot] = Some(atom(value)?);
    }
    let [Some(kx), Some(cipher), Some(mac), prf] = fields else {
        return None;
    };
    if !map && items.len() < 3 {
        return None;
    }
    let mut out = format!("{{{},{},{}", quoted(&kx), quoted(&cipher), quoted(&mac));
    if let Some(prf) = prf.filter(|p| p != "default_prf") {
        out.push(',');
        out.push_str(&quoted(&prf));
    }
    out.push('}');
    Some(out)
}

/// The first three elements of a canonical tuple: what a three-element
/// tuple written for a suite with its own PRF still identifies.
pub(super) fn without_prf(canonical: &str) -> &str {
    let body = canonical.trim_end_matches('}');
    match body.match_indices(',').nth(2) {
        Some((at, _)) => &canonical[..at],
        None => body,
    }
}

/// The map spelling of a canonical tuple (what `ssl:listen` takes and
/// `ssl:cipher_suites` prints), the PRF `default_prf` where the tuple has
/// none. `None` for the empty name of a suite OTP does not know.
pub(super) fn map_form(canonical: &str) -> Option<String> {
    let body = canonical.strip_prefix('{')?.strip_suffix('}')?;
    let items: Vec<&str> = body.split(',').collect();
    let (kx, cipher, mac, prf) = match items.as_slice() {
        [kx, cipher, mac] => (kx, cipher, mac, &"default_prf"),
        [kx, cipher, mac, prf] => (kx, cipher, mac, prf),
        _ => return None,
    };
    Some(format!(
        "#{{key_exchange => {kx}, cipher => {cipher}, mac => {mac}, prf => {prf}}}"
    ))
}

/// An atom, bare (`aes_256_gcm`) or quoted (`'3des_ede_cbc'`), unquoted.
fn atom(text: &str) -> Option<String> {
    let text = text.trim();
    let bare = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(text);
    let ok = !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@');
    ok.then(|| bare.to_owned())
}

/// As Erlang prints an atom: quoted unless it starts with a lower-case
/// letter.
fn quoted(atom: &str) -> String {
    if atom.starts_with(|c: char| c.is_ascii_lowercase()) {
        atom.to_owned()
    } else {
        format!("'{atom}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tuples_and_maps_read_as_otp_prints_them() {
        let want = Some("{ecdhe_rsa,aes_256_gcm,aead,sha384}".to_owned());
        assert_eq!(canonical("{ecdhe_rsa,aes_256_gcm,aead,sha384}"), want);
        assert_eq!(
            canonical(" { ecdhe_rsa , aes_256_gcm, aead, sha384 } "),
            want
        );
        assert_eq!(
            canonical(
                "#{key_exchange => ecdhe_rsa, cipher => aes_256_gcm, mac => aead, prf => sha384}"
            ),
            want
        );
        assert_eq!(
            canonical(
                "#{prf => sha384, mac => aead, cipher => aes_256_gcm, key_exchange => ecdhe_rsa}"
            ),
            want
        );
        let legacy = Some("{rsa,'3des_ede_cbc',sha}".to_owned());
        assert_eq!(canonical("{rsa,'3des_ede_cbc',sha}"), legacy);
        assert_eq!(canonical("{rsa,3des_ede_cbc,sha,default_prf}"), legacy);
        assert_eq!(
            canonical("#{key_exchange => rsa, cipher => '3des_ede_cbc', mac => sha}"),
            legacy
        );
    }

    #[test]
    fn anything_else_is_no_erlang_suite() {
        for text in [
            "{}",
            "{rsa}",
            "{rsa,aes_128_cbc}",
            "{rsa,aes_128_cbc,sha,sha256,extra}",
            "#{key_exchange => rsa}",
            "#{key_exchange => rsa, cipher => x, mac => y, colour => z}",
            "#{key_exchange => rsa, key_exchange => rsa, cipher => x, mac => y}",
            "{rsa,aes-128,sha}",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "{rsa,,sha}",
        ] {
            assert_eq!(canonical(text), None, "{text}");
        }
    }

    #[test]
    fn the_map_form_reads_back_as_the_same_tuple() {
        for tuple in [
            "{ecdhe_rsa,aes_256_gcm,aead,sha384}",
            "{rsa,'3des_ede_cbc',sha}",
        ] {
            let map = map_form(tuple).unwrap();
            assert_eq!(canonical(&map).as_deref(), Some(tuple), "{map}");
        }
        assert_eq!(
            map_form("{rsa,'3des_ede_cbc',sha}").unwrap(),
            "#{key_exchange => rsa, cipher => '3des_ede_cbc', mac => sha, prf => default_prf}"
        );
        assert_eq!(map_form(""), None);
    }

    #[test]
    fn the_prf_comes_off() {
        assert_eq!(
            without_prf("{ecdhe_rsa,aes_256_gcm,aead,sha384}"),
            "{ecdhe_rsa,aes_256_gcm,aead"
        );
        assert_eq!(without_prf("{rsa,aes_128_cbc,sha}"), "{rsa,aes_128_cbc,sha");
    }

    proptest! {
        #[test]
        fn never_panics_and_canonical_forms_are_fixed_points(text in "[#{}',=> a-z0-9_]{0,60}") {
            if let Some(c) = canonical(&text) {
                prop_assert_eq!(canonical(&c), Some(c.clone()));
            }
        }
    }
}
