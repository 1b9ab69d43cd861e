package codedeployimport_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
)

// peer is a test peer speaking CodeDeploy's JSON 1.1 protocol
// (X-Amz-Target: CodeDeploy_20141006.<Operation>,
// application/x-amz-json-1.1) for the operations the importer calls, with
// records written as JSON documents shaped like the API Reference's.
//
// With upstream set (a moto server), it serves only what moto lacks —
// deployment configurations, BatchGetDeploymentGroups (answered from
// moto's GetDeploymentGroup) and epoch-second createTime in
// BatchGetApplications (moto writes ISO 8601, which the SDK rejects) — and
// forwards every other request to moto unchanged. moto's
// GetDeploymentGroup answers autoScalingGroups with the names it was given;
// the peer rewrites them as the API's AutoScalingGroup objects.
type peer struct {
	upstream string
	pageSize int // list page size; 0 means 1000

	mu        sync.Mutex
	apps      []string                       // application names in listing order
	appDocs   map[string]string              // ApplicationInfo by name
	groups    map[string][]string            // group names by application, listing order
	groupDocs map[string]string              // DeploymentGroupInfo by application + "/" + name
	configs   []string                       // configuration names, predefined included
	cfgDocs   map[string]string              // DeploymentConfigInfo by name
	calls     map[string][]map[string]string // requests by operation (string members only)
	fail      map[string]string              // operation -> error __type to answer with
}

func newPeer(t *testing.T, upstream string) (*peer, *codedeploy.Client) {
	p, client, stop := startPeer(upstream)
	t.Cleanup(stop)
	return p, client
}

// startPeer starts a peer and returns a client of it, and a function that
// stops it.
func startPeer(upstream string) (*peer, *codedeploy.Client, func()) {
	p := &peer{upstream: upstream, appDocs: map[string]string{}, groups: map[string][]string{},
		groupDocs: map[string]string{}, cfgDocs: map[string]string{}, calls: map[string][]map[string]string{}, fail: map[string]string{}}
	srv := httptest.NewServer(p)
	client := codedeploy.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: readWhole{http.DefaultTransport}},
	})
	return p, client, srv.Close
}

// app adds an application from its ApplicationInfo document.
func (p *peer) app(doc string) {
	name := member(doc, "applicationName")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.apps = append(p.apps, name)
	p.appDocs[name] = doc
}

// group adds a deployment group from its DeploymentGroupInfo document.
func (p *peer) group(doc string) {
	app, name := member(doc, "applicationName"), member(doc, "deploymentGroupName")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.groups[app] = append(p.groups[app], name)
	p.groupDocs[app+"/"+name] = doc
}

// config adds a deployment configuration from its DeploymentConfigInfo
// document, or a predefined name that GetDeploymentConfig never serves.
func (p *peer) config(doc string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !strings.HasPrefix(doc, "{") {
		p.configs = append(p.configs, doc)
		return
	}
	name := member(doc, "deploymentConfigName")
	p.configs = append(p.configs, name)
	p.cfgDocs[name] = doc
}

func member(doc, key string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(doc), &m) // a bad document has no name: the test's comparison fails
	s, _ := m[key].(string)
	return s
}

// callsOf returns the requests made of op.
func (p *peer) callsOf(op string) []map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls[op])
}

const targetPrefix = "CodeDeploy_20141006."

func (p *peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	if !ok || r.Method != http.MethodPost || json.Unmarshal(body, &in) != nil {
		apiError(w, http.StatusBadRequest, "SerializationException", "want a POST of a JSON object with X-Amz-Target "+targetPrefix+"<Operation>")
		return
	}
	p.mu.Lock()
	rec := map[string]string{}
	for k, v := range in {
		switch v := v.(type) {
		case string:
			rec[k] = v
		case []any:
			rec[k] = strconv.Itoa(len(v))
		}
	}
	p.calls[op] = append(p.calls[op], rec)
	failWith := p.fail[op]
	p.mu.Unlock()
	if failWith != "" {
		apiError(w, http.StatusBadRequest, failWith, "injected by the test")
		return
	}
	switch op {
	case "ListDeploymentConfigs":
		p.list(w, in, "deploymentConfigsList", func() []string { return p.configs })
		return
	case "GetDeploymentConfig":
		p.mu.Lock()
		doc, ok := p.cfgDocs[str(in, "deploymentConfigName")]
		p.mu.Unlock()
		if !ok {
			apiError(w, http.StatusBadRequest, "DeploymentConfigDoesNotExistException", "No deployment configuration found for name: "+str(in, "deploymentConfigName"))
			return
		}
		reply(w, `{"deploymentConfigInfo":`+doc+`}`)
		return
	}
	if p.upstream != "" {
		p.viaUpstream(w, r, op, body, in)
		return
	}
	switch op {
	case "ListApplications":
		p.list(w, in, "applications", func() []string { return p.apps })
	case "BatchGetApplications":
		names := strs(in, "applicationNames")
		if len(names) > 100 {
			apiError(w, http.StatusBadRequest, "BatchLimitExceededException", "The maximum number of names or IDs allowed for this request (100) was exceeded.")
			return
		}
		var docs []string
		p.mu.Lock()
		for _, n := range names {
			if d, ok := p.appDocs[n]; ok {
				docs = append(docs, d)
			}
		}
		p.mu.Unlock()
		reply(w, `{"applicationsInfo":[`+strings.Join(docs, ",")+`]}`)
	case "ListDeploymentGroups":
		app := str(in, "applicationName")
		p.mu.Lock()
		_, ok := p.appDocs[app]
		p.mu.Unlock()
		if !ok {
			apiError(w, http.StatusBadRequest, "ApplicationDoesNotExistException", "No application found for name: "+app)
			return
		}
		p.list(w, in, "deploymentGroups", func() []string { return p.groups[app] })
	case "BatchGetDeploymentGroups":
		app, names := str(in, "applicationName"), strs(in, "deploymentGroupNames")
		if len(names) > 100 {
			apiError(w, http.StatusBadRequest, "BatchLimitExceededException", "The maximum number of names or IDs allowed for this request (100) was exceeded.")
			return
		}
		var docs, missing []string
		p.mu.Lock()
		for _, n := range names {
			if d, ok := p.groupDocs[app+"/"+n]; ok {
				docs = append(docs, d)
			} else {
				missing = append(missing, n)
			}
		}
		p.mu.Unlock()
		out := map[string]any{"deploymentGroupsInfo": json.RawMessage("[" + strings.Join(docs, ",") + "]")}
		if len(missing) > 0 {
			out["errorMessage"] = "Deployment groups not found: " + strings.Join(missing, ", ")
		}
		b, _ := json.Marshal(out)
		reply(w, string(b))
	default:
		apiError(w, http.StatusBadRequest, "UnknownOperationException", "the test peer does not implement "+op)
	}
}

// list answers a List operation page by page; nextToken is the index of
// the page's first entry.
func (p *peer) list(w http.ResponseWriter, in map[string]any, key string, all func() []string) {
	p.mu.Lock()
	names := slices.Clone(all())
	size := p.pageSize
	p.mu.Unlock()
	if size == 0 {
		size = 1000
	}
	start := 0
	if tok := str(in, "nextToken"); tok != "" {
		var err error
		if start, err = strconv.Atoi(tok); err != nil || start > len(names) {
			apiError(w, http.StatusBadRequest, "InvalidNextTokenException", "The next token was specified in an invalid format.")
			return
		}
	}
	end := min(start+size, len(names))
	out := map[string]any{key: append([]string{}, names[start:end]...)}
	if end < len(names) {
		out["nextToken"] = strconv.Itoa(end)
	}
	b, _ := json.Marshal(out)
	reply(w, string(b))
}

// viaUpstream serves op from moto.
func (p *peer) viaUpstream(w http.ResponseWriter, r *http.Request, op string, body []byte, in map[string]any) {
	switch op {
	case "BatchGetDeploymentGroups":
		var docs []string
		for _, name := range strs(in, "deploymentGroupNames") {
			req, _ := json.Marshal(map[string]string{"applicationName": str(in, "applicationName"), "deploymentGroupName": name})
			status, out, err := p.upstreamCall(r, "GetDeploymentGroup", req)
			if err != nil || status != http.StatusOK {
				apiError(w, http.StatusInternalServerError, "InternalFailure", fmt.Sprintf("moto GetDeploymentGroup %s: %v %s", name, err, out))
				return
			}
			var got struct {
				DeploymentGroupInfo json.RawMessage `json:"deploymentGroupInfo"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				apiError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
				return
			}
			docs = append(docs, string(asgObjects(got.DeploymentGroupInfo)))
		}
		reply(w, `{"deploymentGroupsInfo":[`+strings.Join(docs, ",")+`]}`)
		return
	}
	status, out, err := p.upstreamCall(r, op, body)
	if err != nil {
		apiError(w, http.StatusBadGateway, "InternalFailure", err.Error())
		return
	}
	if op == "BatchGetApplications" && status == http.StatusOK {
		out = epochCreateTimes(out)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

func (p *peer) upstreamCall(r *http.Request, op string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, p.upstream+"/", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = r.Header.Clone()
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Del("Content-Length")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// asgObjects rewrites moto's autoScalingGroups, the names it was given, as
// the API's AutoScalingGroup objects.
func asgObjects(doc []byte) []byte {
	var m map[string]any
	if json.Unmarshal(doc, &m) != nil {
		return doc
	}
	list, _ := m["autoScalingGroups"].([]any)
	for i, v := range list {
		if name, ok := v.(string); ok {
			list[i] = map[string]string{"name": name}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return doc
	}
	return b
}

// epochCreateTimes rewrites moto's ISO 8601 createTime members as the
// API's epoch seconds.
func epochCreateTimes(b []byte) []byte {
	var out struct {
		ApplicationsInfo []map[string]any `json:"applicationsInfo"`
	}
	if json.Unmarshal(b, &out) != nil {
		return b
	}
	for _, a := range out.ApplicationsInfo {
		if s, ok := a["createTime"].(string); ok {
			if t, err := time.Parse("2006-01-02T15:04:05.000Z", s); err == nil {
				a["createTime"] = float64(t.UnixMilli()) / 1e3
			}
		}
	}
	nb, err := json.Marshal(out)
	if err != nil {
		return b
	}
	return nb
}

// readWhole reads each answer whole before handing it on, as motoserver's
// transport does: reading a large answer later, in the SDK's
// deserializer, now and then failed under -race with "use of closed
// network connection".
type readWhole struct{ next http.RoundTripper }

func (t readWhole) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func reply(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = io.WriteString(w, body)
}

// apiError answers with CodeDeploy's error shape.
func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	_, _ = w.Write(b)
}

func str(in map[string]any, key string) string { s, _ := in[key].(string); return s }

func strs(in map[string]any, key string) []string {
	var out []string
	list, _ := in[key].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
