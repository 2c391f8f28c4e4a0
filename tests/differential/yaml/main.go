// Differential harness: ESO runtime/template/v2 fromYAML/toYAML (sigs.k8s.io/yaml v1.6.0).
// stdin: JSON lines {"op":"from","y":"<yaml text>"} or {"op":"to","v":<json value>}
// stdout: one JSON line per input: {"ok":bool,"out":"..."}
//   from: out = json.Marshal(fromYAML(y)) (what `fromYaml .y | toJson` prints); ok=false when fromYAML set "Error"
//   to:   out = toYAML(v); ok=false when yaml.Marshal failed (toYAML returns ""); outs = distinct outputs over `reps` calls
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// --- copied from external-secrets runtime/template/v2/yaml.go ---
func toYAML(v any) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(str string) map[string]any {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(str), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// --- end copy ---

// ints that fit int64 become int64 (as Python's json gives int), others float64
func conv(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case []any:
		for i := range x {
			x[i] = conv(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = conv(x[k])
		}
		return x
	}
	return v
}

type in struct {
	Op string          `json:"op"`
	Y  string          `json:"y"`
	V  json.RawMessage `json:"v"`
}

const reps, manyReps = 24, 3000

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	for sc.Scan() {
		var c in
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, "bad input:", err)
			os.Exit(2)
		}
		res := map[string]any{}
		switch c.Op {
		case "from":
			m := fromYAML(c.Y)
			_, bad := m["Error"]
			b, err := json.Marshal(m)
			if err != nil {
				res["ok"], res["out"] = false, "marshal: "+err.Error()
			} else {
				res["ok"], res["out"] = !bad, string(b)
			}
		case "to":
			d := json.NewDecoder(bytes.NewReader(c.V))
			d.UseNumber()
			var v any
			if err := d.Decode(&v); err != nil {
				fmt.Fprintln(os.Stderr, "bad value:", err)
				os.Exit(2)
			}
			v = conv(v)
			_, err := yaml.Marshal(v)
			res["ok"], res["out"] = err == nil, toYAML(v)
			// yaml.v2's keyList.Less is not a strict weak order for some key sets and Go's map
			// iteration is random, so the key order can change from call to call: collect them all
			seen := map[string]bool{}
			outs := []string{}
			for i := 0; i < reps || (len(outs) > 1 && i < manyReps); i++ {
				o := toYAML(v)
				if !seen[o] {
					seen[o] = true
					outs = append(outs, o)
				}
			}
			res["outs"] = outs
		}
		enc.Encode(res)
	}
}
