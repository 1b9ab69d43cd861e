package dynamostore

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fleetdeploy/fleetdeploy/deploy"
)

// Attribute names. They are short: every target item carries them.
const (
	aPK      = "pk"  // partition key
	aSK      = "sk"  // sort key
	aDoc     = "d"   // the record, as JSON
	aVersion = "v"   // the record's Version
	aWrite   = "w"   // the ID of the write that last changed the item
	aStatus  = "st"  // deployment: status
	aApp     = "ap"  // deployment: application name
	aGroup   = "gr"  // deployment: group name
	aGroupID = "gid" // group, slot: group ID
	aHolder  = "h"   // slot: the active deployment
	aDepID   = "did" // membership: deployment ID

	// The head item of a deployment.
	aBatches = "tb"  // committed target batches, in commit order
	aNBatch  = "tk"  // len(tb)
	aNonce   = "nn"  // secret of the deployment's page tokens
	aActive  = "act" // "1" while the deployment is active: the lease index's partition key
	aOwner   = "lo"  // lease owner
	aToken   = "lt"  // head: lease token; target: its fence (see stamp.go)
	aExpKey  = "lk"  // lease expiry, timeKey
	aExpIdx  = "lx"  // lease expiry and deployment ID: the lease index's sort key
	aExpires = "le"  // lease expiry, RFC 3339 with nanoseconds
	aClean   = "lc"  // the token of the last lease released cleanly (no other writer registered)
	aHandles = "lh"  // the handles that registered to write targets under the current lease
	aStamped = "ls"  // the token of the last lease whose acquisition finished stamping

	// Target items; they also carry aStatus (the target's status) and
	// aToken (the token of the lease they were last written under).
	aTarget = "tid" // target ID
	aBatch  = "b"   // the PutTargets batch that holds its packed record

	// Instance records.
	aCommits = "cn" // instance head: number of commits
	aListed  = "u"  // instance head: the listed deltas
)

// Index names.
const (
	indexLease = "lease" // global: (act, lx): leases of active deployments by expiry
)

// Item kinds, the prefixes of partition keys.
const (
	pApps      = "app"    // sk: application name
	pGroups    = "grp#"   // + application; sk: group name
	pGroupID   = "gid#"   // + group ID; sk: "id"
	pSlot      = "slot#"  // + groupKey; sk: "slot"
	pMembers   = "deps#"  // + groupKey; sk: timeKey(create time) + "#" + deployment ID
	pDep       = "dep#"   // + deployment ID; sk: skDeployment or skHead
	pTargets   = "tgt#"   // + deployment ID; sk: target ID + "\x00" + batch
	pBatch     = "tgb#"   // + deployment ID + "#" + batch; sk: bucket number
	pInstHead  = "insth#" // + group ID; sk: "head"
	pInstGen   = "instg#" // + group ID + "#" + delta ID; sk: bucket number
	skDep      = "dep"
	skHead     = "head"
	skSlot     = "slot"
	skGroupID  = "id"
	skInstHead = "head"
)

// maxDoc bounds the JSON of one record: DynamoDB items are at most
// 400 KB, and the keys and other attributes need room too.
const maxDoc = 380 << 10

// maxDiagnostic bounds each Message and LogTail of a target's lifecycle
// events; longer ones are cut with truncMarker, so that eleven events
// with both full stay far below maxDoc.
const maxDiagnostic = 8 << 10

// truncMarker marks where a diagnostic was cut; %d is the bytes dropped.
const truncMarker = "[dynamostore: %d bytes truncated]"

// groupKey identifies a group in one string: "len:application/group", so
// that no two (application, group) pairs share one.
func groupKey(app, group string) string {
	return strconv.Itoa(len(app)) + ":" + app + "/" + group
}

func sv(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func nv(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{aPK: sv(pk), aSK: sv(sk)}
}

// str returns string attribute name of item, "" if absent.
func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// num returns number attribute name of item, 0 if absent.
func num(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}

// list returns the strings of list attribute name of item.
func list(item map[string]types.AttributeValue, name string) []string {
	l, ok := item[name].(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l.Value))
	for _, v := range l.Value {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			out = append(out, sv.Value)
		}
	}
	return out
}

// strSet returns string set attribute name of item.
func strSet(item map[string]types.AttributeValue, name string) []string {
	if v, ok := item[name].(*types.AttributeValueMemberSS); ok {
		return v.Value
	}
	return nil
}

// timeKey encodes t so that keys sort as times do: the seconds since
// year 1 and the nanoseconds, zero-padded. The zero time.Time is all
// zeros.
func timeKey(t time.Time) string {
	if t.IsZero() {
		return "000000000000000000000.000000000"
	}
	sec := uint64(t.Unix() - time.Time{}.Unix())
	return fmt.Sprintf("%021d.%09d", sec, t.Nanosecond())
}

// randomID returns n random characters of a-z and 2-7 (5 bits each).
func randomID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b)
}

// writeID returns the ID a write stores in aWrite, to recognize its own
// effect when a retry of it finds the condition it set failing.
func writeID() string { return randomID(16) }

// encode returns the JSON of v, or an error naming the record when it is
// too large for an item.
func encode(record, key string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", invalid(record, key, "cannot encode it: %v", err)
	}
	if len(b) > maxDoc {
		return "", invalid(record, key, "it encodes to %d bytes of JSON; a DynamoDB item holds at most 400 KB, and the store keeps records under %d bytes", len(b), maxDoc)
	}
	return string(b), nil
}

// decode unmarshals the record in item.
func decode(item map[string]types.AttributeValue, v any) error {
	doc, ok := item[aDoc].(*types.AttributeValueMemberS)
	if !ok {
		return fmt.Errorf("dynamostore: item %s/%s has no %q attribute", str(item, aPK), str(item, aSK), aDoc)
	}
	if err := json.Unmarshal([]byte(doc.Value), v); err != nil {
		return fmt.Errorf("dynamostore: item %s/%s: decoding the record: %w", str(item, aPK), str(item, aSK), err)
	}
	return nil
}

// truncateDiagnostics returns t's lifecycle events with every Message cut
// to its first maxDiagnostic bytes and every LogTail to its last, each
// with truncMarker where it was cut; the events themselves when nothing
// is cut.
func truncateDiagnostics(evs []deploy.LifecycleEventRecord) []deploy.LifecycleEventRecord {
	long := false
	for _, e := range evs {
		if d := e.Diagnostics; d != nil && (len(d.Message) > maxDiagnostic || len(d.LogTail) > maxDiagnostic) {
			long = true
		}
	}
	if !long {
		return evs
	}
	out := make([]deploy.LifecycleEventRecord, len(evs))
	copy(out, evs)
	for i := range out {
		d := out[i].Diagnostics
		if d == nil || len(d.Message) <= maxDiagnostic && len(d.LogTail) <= maxDiagnostic {
			continue
		}
		c := *d
		c.Message = keepHead(c.Message, maxDiagnostic)
		c.LogTail = keepTail(c.LogTail, maxDiagnostic)
		out[i].Diagnostics = &c
	}
	return out
}

// keepHead returns v when it fits in max bytes, else its start and
// truncMarker, at most max bytes, cut at a rune boundary.
func keepHead(v string, max int) string {
	if len(v) <= max {
		return v
	}
	cut := max - len(fmt.Sprintf(truncMarker, len(v))) - 1
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + " " + fmt.Sprintf(truncMarker, len(v)-cut)
}

// keepTail returns v when it fits in max bytes, else truncMarker and its
// end, at most max bytes, cut at a rune boundary: the end of a script's
// output is what says why it failed.
func keepTail(v string, max int) string {
	if len(v) <= max {
		return v
	}
	from := len(v) - (max - len(fmt.Sprintf(truncMarker, len(v))) - 1)
	for from < len(v) && !utf8.RuneStart(v[from]) {
		from++
	}
	return fmt.Sprintf(truncMarker, from) + "\n" + v[from:]
}
