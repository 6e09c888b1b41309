package drift

// sliceStream is a sortedStream over a sorted slice (tests, small data).
type sliceStream struct {
	keys []uint64
	pos  int
}

func (s *sliceStream) Peek() (uint64, bool) {
	if s.pos >= len(s.keys) {
		return 0, false
	}
	return s.keys[s.pos], true
}

func (s *sliceStream) Take(k uint64) int64 {
	start := s.pos
	for s.pos < len(s.keys) && s.keys[s.pos] == k {
		s.pos++
	}
	return int64(s.pos - start)
}
