package bridge

import "github.com/dialin/dialin/media"

// The jitter buffer is what feeds the mixer in production.
var _ FrameSource = (*media.JitterBuffer)(nil)

// A call's RTP session is where the mixer's frames go.
var _ FrameSink = (*media.Session)(nil)
