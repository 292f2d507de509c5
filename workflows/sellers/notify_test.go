package sellers

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A step's reminder is named after the step's deadline, its due time in
// Unix milliseconds: the same in every try of the task that sends it,
// whatever else that try records first.
func TestAStepReminderIsNamedAfterItsDeadline(t *testing.T) {
	ot := newOnboardingTest(t)
	in := onboardingInput(
		StepPolicy{Name: StepAccountCreated, Due: 24 * time.Hour, EscalateAfter: 24 * time.Hour},
		StepPolicy{Name: StepFirstListing, Due: time.Hour, EscalateAfter: time.Hour},
		StepPolicy{Name: StepFirstOrderShipped, Due: 90 * time.Minute, EscalateAfter: time.Hour},
	)
	ot.event(time.Minute, "e-1", EventKindAccountCreated)
	ot.closeAt(2 * time.Hour)
	ot.run(in)
	require.Equal(t, []string{StepFirstListing, StepFirstOrderShipped}, ot.reminders())
	ot.mu.Lock()
	defer ot.mu.Unlock()
	due := func(d time.Duration) string { return strconv.FormatInt(in.StartedAt.Add(d).UnixMilli(), 10) }
	assert.Equal(t, "seller/s-1/deadline/overdue/first_listing/"+due(time.Hour)+"/seller_step_reminder/customer", ot.sent[0].ID)
	assert.Equal(t, "seller/s-1/deadline/overdue/first_order_shipped/"+due(90*time.Minute)+"/seller_step_reminder/customer", ot.sent[1].ID)
}

// The verification's one notice is named after the check it ends.
func TestTheVerificationNoticeIsNamedAfterItsCheck(t *testing.T) {
	vt := newVerificationTest(t)
	vt.start = func(r IdentityCheckRequest) CheckResult {
		return CheckResult{ID: "chk-1", SellerID: r.SellerID, Status: CheckPassed, DecidedAt: sellerStart}
	}
	vt.run(verificationInput())
	assert.Equal(t, []string{NoticeVerified}, vt.notices())
	assert.Equal(t, "verification/s-1/check/chk-1/seller_verified/customer", vt.notice(NoticeVerified).ID)
}
