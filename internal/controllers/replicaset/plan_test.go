package replicaset

import (
	"errors"
	"slices"
	"sync"
	"testing"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		have  int
		want  int32
		burst int
		out   int
	}{
		{have: 0, want: 3, burst: 500, out: 3},
		{have: 3, want: 3, burst: 500, out: 0},
		{have: 10, want: 2, burst: 500, out: -8},
		{have: 0, want: 1000, burst: 500, out: 500},
		{have: 1000, want: 0, burst: 500, out: -500},
	}
	for _, tt := range tests {
		if got := diff(tt.have, tt.want, tt.burst); got != tt.out {
			t.Errorf("diff(%d, %d, %d) = %d, want %d", tt.have, tt.want, tt.burst, got, tt.out)
		}
	}
}

func TestSlowStart(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		fail      func(call int) bool
		wantCalls int
		wantOK    int
		wantErr   bool
	}{
		{name: "all succeed", n: 15, fail: func(int) bool { return false }, wantCalls: 15, wantOK: 15},
		{name: "partial last batch", n: 10, fail: func(int) bool { return false }, wantCalls: 10, wantOK: 10},
		{name: "first call fails", n: 50, fail: func(int) bool { return true }, wantCalls: 1, wantOK: 0, wantErr: true},
		// Calls 1 (batch 1) and 2-3 (batch 2) succeed; batch 3 (calls
		// 4-7) has one failure, so batch 4 never starts.
		{name: "failure in third batch", n: 50, fail: func(c int) bool { return c == 5 }, wantCalls: 7, wantOK: 6, wantErr: true},
		{name: "nothing to do", n: 0, fail: func(int) bool { return true }, wantCalls: 0, wantOK: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			ok, err := slowStart(tt.n, 1, func() error {
				mu.Lock()
				calls++
				c := calls
				mu.Unlock()
				if tt.fail(c) {
					return errors.New("boom")
				}
				return nil
			})
			if calls != tt.wantCalls || ok != tt.wantOK || (err != nil) != tt.wantErr {
				t.Errorf("calls=%d ok=%d err=%v; want calls=%d ok=%d err=%v", calls, ok, err, tt.wantCalls, tt.wantOK, tt.wantErr)
			}
		})
	}
}

func TestBatchSizes(t *testing.T) {
	tests := []struct {
		n, initial int
		want       []int
	}{
		{n: 20, initial: 1, want: []int{1, 2, 4, 8, 5}},
		{n: 15, initial: 1, want: []int{1, 2, 4, 8}},
		{n: 1, initial: 1, want: []int{1}},
		{n: 0, initial: 1, want: nil},
		{n: 10, initial: 0, want: []int{1, 2, 4, 3}},
		{n: 10, initial: 3, want: []int{3, 6, 1}},
	}
	for _, tt := range tests {
		if got := batchSizes(tt.n, tt.initial); !slices.Equal(got, tt.want) {
			t.Errorf("batchSizes(%d, %d) = %v, want %v", tt.n, tt.initial, got, tt.want)
		}
	}
}
