package realkas

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// kasJWTHeader carries the token with which KAS signs every call to
// GitLab's internal API (gitlab-agent internal/gitlab/client.go; GitLab
// checks it in lib/gitlab/kas.rb, verify_api_request).
const kasJWTHeader = "Gitlab-Kas-Api-Request"

// verifyKASJWT checks a KAS request token as GitLab does: HS256 with the
// shared secret, issuer gitlab-kas, audience gitlab, and within its
// validity (KAS makes it valid for 30 s, from 5 s ago).
func verifyKASJWT(token string, secret []byte, now time.Time) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not a JWS compact serialization")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if header.Alg != "HS256" {
		return fmt.Errorf("algorithm %q, want HS256", header.Alg)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return errors.New("bad signature")
	}
	var claims struct {
		Issuer    string          `json:"iss"`
		Audience  json.RawMessage `json:"aud"`
		ExpiresAt *int64          `json:"exp"`
		NotBefore *int64          `json:"nbf"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	if claims.Issuer != "gitlab-kas" {
		return fmt.Errorf("issuer %q, want gitlab-kas", claims.Issuer)
	}
	var audiences []string
	if json.Unmarshal(claims.Audience, &audiences) != nil {
		var one string
		if json.Unmarshal(claims.Audience, &one) != nil {
			return errors.New("no audience")
		}
		audiences = []string{one}
	}
	if !slices.Contains(audiences, "gitlab") {
		return fmt.Errorf("audience %q lacks gitlab", audiences)
	}
	switch {
	case claims.ExpiresAt == nil || now.Unix() >= *claims.ExpiresAt:
		return errors.New("expired or no expiry")
	case claims.NotBefore != nil && now.Unix() < *claims.NotBefore:
		return errors.New("not valid yet")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
