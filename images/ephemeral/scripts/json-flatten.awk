# JSON -> one "path<TAB>value" line per scalar, for a shell without jq (the ephemeral environment
# has busybox awk only). The path joins object keys and array indexes with "/"
# ({"1.0":{"commissioning_scripts":[{"name":"x"}]}} gives "1.0/commissioning_scripts/0/name<TAB>x").
# Strings lose their quotes and their \" \\ \/ \n \t \r escapes; null gives an empty value.
# Empty objects and arrays print nothing. Good for the maas-scripts index.json, not a validator.
BEGIN { RS = "\001"; depth = 0 }
{
  s = $0; n = length(s); i = 1
  while (i <= n) {
    c = substr(s, i, 1)
    if (c == "{" || c == "[") {
      depth++; kind[depth] = c; idx[depth] = 0; key[depth] = ""; expectkey[depth] = (c == "{"); i++
    } else if (c == "}" || c == "]") {
      depth--; i++
    } else if (c == ",") {
      if (kind[depth] == "[") idx[depth]++; else expectkey[depth] = 1
      i++
    } else if (c == ":") {
      expectkey[depth] = 0; i++
    } else if (c == "\"") {
      j = i + 1; str = ""
      while (j <= n) {
        d = substr(s, j, 1)
        if (d == "\\") {
          e = substr(s, j + 1, 1)
          if (e == "n") str = str "\n"; else if (e == "t") str = str "\t"; else if (e == "r") str = str "\r"
          else if (e == "u") str = str "\\u"; else str = str e
          j += 2
        } else if (d == "\"") { break } else { str = str d; j++ }
      }
      i = j + 1
      if (kind[depth] == "{" && expectkey[depth]) key[depth] = str
      else emit(str)
    } else if (index("-0123456789tfn", c) > 0) {
      j = i
      while (j <= n && index(",}] \t\r\n", substr(s, j, 1)) == 0) j++
      v = substr(s, i, j - i); i = j
      emit(v == "null" ? "" : v)
    } else i++
  }
}
function emit(v,   p, k) {
  p = ""
  for (k = 1; k <= depth; k++) p = p (k > 1 ? "/" : "") (kind[k] == "[" ? idx[k] : key[k])
  # Newlines inside a value would break the line format: keep them escaped.
  gsub(/\n/, "\\n", v)
  print p "\t" v
}
