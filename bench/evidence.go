package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Evidence measures how fast a file goes to S3 through the API's upload,
// beside a bare PutObject of the same bytes to the same bucket.
var Evidence = Part{
	Name: "evidence",
	What: "MiB/s of POST /v1/cases/{id}/evidence divided by a bare S3 PutObject of the same size, A/B alternated; the API's RSS growth on the largest file",
	Run:  runEvidence,
}

// Targets of the evidence part.
const (
	// uploadRatioTarget is the least API MiB/s over bare MiB/s.
	uploadRatioTarget = 0.8
	// uploadRSSTarget is the most, in MiB, the API's RSS may grow while it
	// streams the largest file.
	uploadRSSTarget = 64
)

// evidenceCategory is the category of the bench's upload cases: its
// evidence is not locked by S3 Object Lock (disputes' is), so the bench can
// delete what it stored.
const evidenceCategory = vocab.CategoryDeliveryDelay

// bareEvidencePrefix is where the bare uploads go in the bucket, apart
// from the API's cases/ keys.
const bareEvidencePrefix = "bench/evidence/"

// evidenceTimes is one size's measurement.
type evidenceTimes struct {
	size      int64
	api, bare []time.Duration
}

// runEvidence is Evidence's Run.
func runEvidence(ctx context.Context, env *Env, opts Options) (res Result, err error) {
	started := time.Now()
	res = Result{Part: "evidence"}
	log := benchLogger(env)
	sizes := slices.Clone(opts.EvidenceSizes)
	if len(sizes) == 0 {
		sizes = []int64{1 << 20, 100 << 20}
	}
	slices.Sort(sizes)
	bucket := env.Config.S3.Bucket
	if bucket == "" {
		return res, errors.New("evidence: no S3 bucket in the configuration")
	}
	run := evidenceRun{env: env, bucket: bucket, nonce: runNonce(6)}
	defer run.cleanUp(context.WithoutCancel(ctx))

	stopAll := Watch(ctx, 200*time.Millisecond, env.underTest()...)
	defer func() { res.Usage = stopAll() }() // res is named: the deferred write is returned

	// One upload each way first, not timed: connections, the case's
	// workflow in the worker's cache and the SDK's first-call setup.
	if err := run.warmUp(ctx); err != nil {
		return res, err
	}
	var rssGrowth float64
	rssKnown := false
	var times []evidenceTimes
	for si, size := range sizes {
		reps := 3
		if size <= 8<<20 {
			reps = 5
		}
		caseID, err := run.openCase(ctx, size)
		if err != nil {
			return res, err
		}
		largest := si == len(sizes)-1
		var before int64
		var stopRSS func() []Usage
		if largest && env.APIProc != nil {
			if before, err = env.APIProc.RSS(); err != nil {
				return res, fmt.Errorf("evidence: RSS of the API: %w", err)
			}
			// Between the API's uploads come the bare ones, which the
			// API takes no part in: the peak is of its uploads alone.
			stopRSS = Watch(ctx, 20*time.Millisecond, env.APIProc)
		}
		t := evidenceTimes{size: size}
		for i := range reps {
			// A/B: the API, then the bare PutObject, each with bytes of
			// their own so no upload is a duplicate of another.
			d, err := run.uploadAPI(ctx, caseID, size, run.seed(size, i, 0))
			if err != nil {
				if stopRSS != nil {
					stopRSS()
				}
				return res, err
			}
			t.api = append(t.api, d)
			d, err = run.putBare(ctx, size, i, run.seed(size, i, 1))
			if err != nil {
				if stopRSS != nil {
					stopRSS()
				}
				return res, err
			}
			t.bare = append(t.bare, d)
			log.Info("bench upload", "part", "evidence", "size", sizeLabel(size), "round", i+1,
				"api_mib_s", mibPerSec(size, t.api[i]), "bare_mib_s", mibPerSec(size, t.bare[i]))
		}
		if stopRSS != nil {
			if u := stopRSS(); len(u) == 1 {
				rssGrowth, rssKnown = u[0].RSSPeakMB-float64(before)/(1<<20), true
			}
		}
		times = append(times, t)
		if err := run.closeCase(ctx, caseID); err != nil {
			log.Warn("bench case left open", "part", "evidence", "case", caseID, "error", err)
		}
	}

	for _, t := range times {
		label := sizeLabel(t.size)
		api, bare := medianRate(t.size, t.api), medianRate(t.size, t.bare)
		res.Add("API upload "+label, api, "MiB/s")
		res.Note(fmt.Sprintf("median of %d, POST multipart with Content-Length", len(t.api)))
		res.Add("bare PutObject "+label, bare, "MiB/s")
		res.Note(fmt.Sprintf("median of %d, one PutObject, SSE-S3, CRC32 and signed payload", len(t.bare)))
		res.AddTarget("API / bare "+label, Ratio(api, bare), "ratio", uploadRatioTarget, false)
	}
	label := "API RSS growth uploading " + sizeLabel(sizes[len(sizes)-1])
	if rssKnown {
		res.AddTarget(label, rssGrowth, "MiB", uploadRSSTarget, true)
		res.Note("peak RSS during its uploads minus RSS just before, sampled every 20ms")
	} else {
		res.Add(label, notMeasured(), "MiB")
		res.Note("the API's process is not known")
	}
	res.Took = time.Since(started)
	return res, nil
}

// evidenceRun is one run of the evidence part: what it made, to clean up.
type evidenceRun struct {
	env    *Env
	bucket string
	// nonce keeps this run's bytes and keys apart from every other run's.
	nonce string
	// cases are the cases opened, whose objects are deleted at the end;
	// open those not closed yet.
	cases, open []string
}

// seed answers the generator seed of round i of size on a side (0 API,
// 1 bare): a different file for every upload of every run.
func (r *evidenceRun) seed(size int64, i, side int) uint64 {
	h := uint64(0xcbf29ce484222325)
	for _, b := range []byte(r.nonce) {
		h = (h ^ uint64(b)) * 0x100000001b3
	}
	return h ^ uint64(size)<<20 ^ uint64(i)<<4 ^ uint64(side)
}

// warmUp sends one small upload through the API and one bare, untimed.
func (r *evidenceRun) warmUp(ctx context.Context) error {
	const size = 64 << 10
	id, err := r.openCase(ctx, size)
	if err != nil {
		return err
	}
	if _, err := r.uploadAPI(ctx, id, size, r.seed(size, 0, 0)); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if _, err := r.putBare(ctx, size, 0, r.seed(size, 0, 1)); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if err := r.closeCase(ctx, id); err != nil {
		benchLogger(r.env).Warn("bench case left open", "part", "evidence", "case", id, "error", err)
	}
	return nil
}

// openCase opens the case the uploads of size go to.
func (r *evidenceRun) openCase(ctx context.Context, size int64) (string, error) {
	customer := "bench-evidence-" + r.nonce
	body := map[string]any{
		"category": evidenceCategory,
		"subject":  "Bench: evidence uploads of " + sizeLabel(size),
		"description": "The parcel is a week late; the tracking page is attached. " +
			"(Opened by the bench; its files are deleted after the run.)",
		"customer": map[string]string{"id": customer, "email": customer + "@example.com", "name": "Bench", "locale": "en"},
		"channel":  "web",
	}
	var v cases.CaseView
	if err := r.env.call(ctx, http.MethodPost, "/v1/cases", body, &v); err != nil {
		return "", fmt.Errorf("open the evidence case: %w", err)
	}
	r.cases = append(r.cases, v.ID)
	r.open = append(r.open, v.ID)
	return v.ID, nil
}

// closeCase resolves and closes a bench case, so its SLA timers stop.
func (r *evidenceRun) closeCase(ctx context.Context, id string) error {
	if err := r.env.act(ctx, id, "resolve", map[string]string{"resolution": "Bench run done."}); err != nil {
		return fmt.Errorf("resolve bench case %s: %w", id, err)
	}
	if err := r.env.act(ctx, id, "close", nil); err != nil {
		return fmt.Errorf("close bench case %s: %w", id, err)
	}
	r.open = slices.DeleteFunc(r.open, func(o string) bool { return o == id })
	return nil
}

// uploadAPI posts a generated PNG of size bytes as evidence of a case and
// answers how long it took, from sending the request to reading the 201.
func (r *evidenceRun) uploadAPI(ctx context.Context, caseID string, size int64, seed uint64) (time.Duration, error) {
	return r.env.upload(ctx, "/v1/cases/"+caseID+"/evidence", "tracking.png", size, seed)
}

// evidenceForm answers the multipart body of an upload of a generated PNG
// of size bytes named filename, of kind delivery_screenshot, with its
// length and content type. The body streams: the framing a
// multipart.Writer wrote beforehand around the generated file, so its
// length is known and sent, as a browser does, and the file is never held
// whole.
func evidenceForm(filename string, seed uint64, size int64) (io.Reader, int64, string, error) {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	if err := mw.WriteField("kind", "delivery_screenshot"); err != nil {
		return nil, 0, "", fmt.Errorf("multipart form: %w", err)
	}
	h := textproto.MIMEHeader{}
	// As a browser writes it; the bench's names need no escaping.
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, filename))
	h.Set("Content-Type", "image/png")
	if _, err := mw.CreatePart(h); err != nil {
		return nil, 0, "", fmt.Errorf("multipart form: %w", err)
	}
	head := form.Len()
	if err := mw.Close(); err != nil {
		return nil, 0, "", fmt.Errorf("multipart form: %w", err)
	}
	b := form.Bytes()
	body := io.MultiReader(bytes.NewReader(b[:head]), newPNGStream(seed, size), bytes.NewReader(b[head:]))
	return body, int64(len(b)) + size, mw.FormDataContentType(), nil
}

// putBare stores a generated PNG of size bytes straight in the bucket with
// one PutObject, as the API's own upload would if it knew the length and
// had nothing to check: the same SDK defaults (a CRC32 checksum and a
// signed payload, both computed by reading the body before it is sent)
// and the same server-side encryption. It answers how long the PutObject
// took, then deletes the object.
func (r *evidenceRun) putBare(ctx context.Context, size int64, i int, seed uint64) (time.Duration, error) {
	key := fmt.Sprintf("%s%s/%d-%d.png", bareEvidencePrefix, r.nonce, size, i)
	start := time.Now()
	out, err := r.env.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(r.bucket), Key: aws.String(key), Body: newPNGStream(seed, size),
		ContentLength: aws.Int64(size), ContentType: aws.String("image/png"),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	})
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("bare put %s: %w", key, err)
	}
	if _, err := r.env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(r.bucket), Key: aws.String(key), VersionId: out.VersionId,
	}); err != nil {
		return 0, fmt.Errorf("delete bare object %s: %w", key, err)
	}
	return took, nil
}

// cleanUp closes the cases a failure left open, then deletes every
// version left under this run's bare prefix and under each of its cases'
// evidence keys (their category's files are not retained). Failures are
// logged: a cleanup does not fail a run.
func (r *evidenceRun) cleanUp(ctx context.Context) {
	log := benchLogger(r.env)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, id := range slices.Clone(r.open) {
		if err := r.closeCase(ctx, id); err != nil {
			log.Warn("bench case left open", "part", "evidence", "case", id, "error", err)
		}
	}
	prefixes := []string{bareEvidencePrefix + r.nonce + "/"}
	for _, id := range r.cases {
		prefixes = append(prefixes, "cases/"+id+"/")
	}
	deleted := 0
	for _, prefix := range prefixes {
		n, err := deleteVersions(ctx, r.env.S3, r.bucket, prefix)
		deleted += n
		if err != nil {
			log.Warn("bench objects left in S3", "part", "evidence", "prefix", prefix, "error", err)
		}
	}
	log.Info("bench objects deleted", "part", "evidence", "versions", deleted)
}

// deleteVersions deletes every version and delete marker under prefix and
// answers how many it deleted.
func deleteVersions(ctx context.Context, c *s3.Client, bucket, prefix string) (int, error) {
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{
		Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	n := 0
	var errs []error
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("list versions of %s: %w", prefix, err)
		}
		type version struct{ key, id *string }
		var all []version
		for _, v := range page.Versions {
			all = append(all, version{v.Key, v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			all = append(all, version{m.Key, m.VersionId})
		}
		for _, v := range all {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{
				Bucket: aws.String(bucket), Key: v.key, VersionId: v.id}); err != nil {
				errs = append(errs, fmt.Errorf("delete %s: %w", aws.ToString(v.key), err))
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}

// pngSignature is the first eight bytes of every PNG file, what
// http.DetectContentType (and so the API) sniffs as image/png.
const pngSignature = "\x89PNG\r\n\x1a\n"

// pngBlock is how much of a generated file is made at once.
const pngBlock = 64 << 10

// mibPerSec answers size bytes over d in MiB/s.
func mibPerSec(size int64, d time.Duration) float64 {
	if d <= 0 {
		return notMeasured()
	}
	return float64(size) / (1 << 20) / d.Seconds()
}

// medianRate answers the median MiB/s of uploads of size that took ds.
func medianRate(size int64, ds []time.Duration) float64 {
	if len(ds) == 0 {
		return notMeasured()
	}
	rates := make([]float64, len(ds))
	for i, d := range ds {
		rates[i] = mibPerSec(size, d)
	}
	sort.Float64s(rates)
	if n := len(rates); n%2 == 0 {
		return (rates[n/2-1] + rates[n/2]) / 2
	}
	return rates[len(rates)/2]
}

// sizeLabel writes a byte count as "1 MiB", "64 KiB" or "1000 B".
func sizeLabel(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// notMeasured answers a value that is not a number: a figure that could not be measured.
func notMeasured() float64 { return Ratio(0, 0) }

// runNonce answers n random bytes as hex: a name no other run uses.
func runNonce(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
