package motoserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// PrepareLambda readies the moto server at endpoint for Lambda functions:
// it turns Docker off (Invoke then answers at once and runs no code) and
// creates the IAM role roleName that functions run as (moto's Lambda
// refuses a function whose role is not in its IAM), reusing it if it
// exists. It returns the role's ARN. The role is made with one
// SigV4-signed request of IAM's query protocol, signed with cfg's
// credentials, so that no IAM client module is needed for one call.
func PrepareLambda(ctx context.Context, cfg aws.Config, endpoint, roleName string) (string, error) {
	if err := post(ctx, cfg.HTTPClient, endpoint+"/moto-api/config", "application/json", `{"lambda":{"use_docker":false}}`, nil); err != nil {
		return "", fmt.Errorf("configuring moto's Lambda: %w", err)
	}
	form := url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {roleName},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}}
	sign := func(req *http.Request, body string) error {
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(body))
		return v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "iam", cfg.Region, time.Now())
	}
	err := post(ctx, cfg.HTTPClient, endpoint+"/", "application/x-www-form-urlencoded; charset=utf-8", form.Encode(), sign)
	if err != nil && !strings.Contains(err.Error(), "EntityAlreadyExists") {
		return "", fmt.Errorf("creating IAM role %s in moto: %w", roleName, err)
	}
	return "arn:aws:iam::123456789012:role/" + roleName, nil
}

// post sends body to u, signed by sign if not nil, and fails unless the
// answer is 2xx (the error then holds the answer).
func post(ctx context.Context, hc aws.HTTPClient, u, contentType, body string, sign func(*http.Request, string) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	if sign != nil {
		if err := sign(req, body); err != nil {
			return err
		}
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(answer))
	}
	return nil
}
