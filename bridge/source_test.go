package bridge

import "github.com/dialin/dialin/media"

// The jitter buffer is what feeds the mixer in production.
var _ FrameSource = (*media.JitterBuffer)(nil)

// A call's player (its RTP session's only sender) is where the mixer's
// frames go.
var _ FrameSink = (*media.Player)(nil)
