package tokenstore

import "encoding/base64"

// keyringCapacity tells how many bytes go-keyring v0.2.x would use to store
// secret on goos, and the most that it (or the OS) accepts there, so that an
// entry too big is refused up front with a clear error instead of
// go-keyring's bare ErrSetDataTooBig, or a truncated item.
func keyringCapacity(goos, service, user, secret string) (used, limit int) {
	switch goos {
	case "windows":
		// Credential Manager: a credential blob holds at most 2560 bytes.
		return len(secret), 2560
	case "darwin":
		// go-keyring pipes one command line to `security -i`, which takes
		// at most 4096 bytes: add-generic-password -U -s S -a U -w P\n,
		// S and U shell-quoted, P = "go-keyring-base64:" + base64(secret).
		// That leaves about 3000 bytes for the secret.
		pw := len("go-keyring-base64:") + base64.StdEncoding.EncodedLen(len(secret))
		used = len("add-generic-password -U -s ") + shellQuotedLen(service) +
			len(" -a ") + shellQuotedLen(user) + len(" -w ") + pw + len("\n")
		return used, 4096
	default:
		// Secret Service: no hard limit, but big items slow the daemon down;
		// an entry is a few hundred bytes, so anything near this is a mistake.
		return len(secret), 64 << 10
	}
}

// shellQuotedLen is len(shellescape.Quote(s)) as go-keyring quotes on macOS:
// as is when every byte is in [A-Za-z0-9_@%+=:,./-], else in single quotes
// with each ' written as '"'"'.
func shellQuotedLen(s string) int {
	if s == "" {
		return 2
	}
	quotes, plain := 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_' || c == '@' || c == '%' || c == '+' || c == '=' || c == ':' || c == ',' || c == '.' || c == '/' || c == '-':
		default:
			plain = false
			if c == '\'' {
				quotes++
			}
		}
	}
	if plain {
		return len(s)
	}
	return len(s) + 2 + 4*quotes
}
