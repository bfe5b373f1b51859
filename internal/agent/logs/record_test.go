package logs

import (
	"errors"
	"testing"
	"time"
)

func TestParseRecord(t *testing.T) {
	ts := time.Date(2016, 10, 6, 0, 17, 9, 669794202, time.UTC)
	tests := []struct {
		name, line string
		want       record
		bad        bool
	}{
		{name: "full", line: "2016-10-06T00:17:09.669794202Z stdout F hello world\n",
			want: record{time: ts, stream: stdout, content: []byte("hello world")}},
		{name: "partial", line: "2016-10-06T00:17:09.669794202Z stderr P part",
			want: record{time: ts, stream: stderr, partial: true, content: []byte("part")}},
		{name: "more tags", line: "2016-10-06T00:17:09.669794202Z stdout F:x y\n",
			want: record{time: ts, stream: stdout, content: []byte("y")}},
		{name: "empty content", line: "2016-10-06T00:17:09.669794202Z stdout F \n",
			want: record{time: ts, stream: stdout, content: []byte{}}},
		{name: "no space before empty content", line: "2016-10-06T00:17:09.669794202Z stdout F\n",
			want: record{time: ts, stream: stdout}},
		{name: "spaces kept", line: "2016-10-06T00:17:09.669794202Z stdout F  two  spaces \n",
			want: record{time: ts, stream: stdout, content: []byte(" two  spaces ")}},
		{name: "offset time", line: "2016-10-06T02:17:09.669794202+02:00 stdout F x\n",
			want: record{time: ts, stream: stdout, content: []byte("x")}},
		{name: "bad time", line: "yesterday stdout F x\n", bad: true},
		{name: "bad stream", line: "2016-10-06T00:17:09Z stdin F x\n", bad: true},
		{name: "bad tag", line: "2016-10-06T00:17:09Z stdout X x\n", bad: true},
		{name: "plain text", line: "hello\n", bad: true},
		{name: "docker json", line: `{"log":"x\n","stream":"stdout","time":"2016-10-06T00:17:09Z"}` + "\n", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRecord([]byte(tc.line))
			if tc.bad {
				if !errors.Is(err, errFormat) {
					t.Fatalf("err = %v, want errFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.time.Equal(tc.want.time) || got.stream != tc.want.stream || got.partial != tc.want.partial ||
				string(got.content) != string(tc.want.content) {
				t.Fatalf("got %+v (%q), want %+v (%q)", got, got.content, tc.want, tc.want.content)
			}
		})
	}
}
