package ivr

import (
	"context"
	"time"

	"github.com/dialin/dialin/media"
)

// maxEchoDigits bounds what the first call flow reads; a conference ID is
// seven digits, so anything much longer is a stuck key or an attack.
const maxEchoDigits = 32

// Echo is the first call flow: welcome, collect keys up to '#', log them,
// say them back, goodbye. The full conference IVR replaces it.
type Echo struct {
	Prompts      *media.Prompts
	DigitTimeout time.Duration
}

// Run plays the flow on call and returns when it is over (the caller then
// hangs up) or ctx ends.
func (e *Echo) Run(ctx context.Context, call Call) {
	p := e.Prompts.MustGet
	log := call.Log()
	first, err := playUntilKey(ctx, call, p(media.PromptWelcome), p(media.PromptEnterConferenceID))
	if err != nil {
		return
	}
	digits, err := collect(ctx, call, first, maxEchoDigits, e.DigitTimeout)
	if err != nil {
		return
	}
	log.Info().Str("digits", digits).Msg("digits collected")

	var reply []*media.Prompt
	if digits == "" {
		reply = append(reply, p(media.PromptNoDigits))
	} else {
		reply = append(reply, p(media.PromptYouEntered))
		for i := range len(digits) {
			if name := media.DigitPrompt(digits[i]); name != "" {
				reply = append(reply, p(name))
			}
		}
	}
	reply = append(reply, p(media.PromptGoodbye))
	_ = play(ctx, call, reply...)
}
