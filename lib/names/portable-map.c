/* portable-map.c: reading the name map (settle-portable-map.h). */
#include "settle-portable-map.h"

#include <string.h>

#include <openssl/crypto.h>

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static bool
name_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static char
lower (char c)
{
  return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

/* One line (without its '\n'): NAME PERIOD KEY. */
static bool
parse_line (const char *line, size_t len, const char **name, size_t *name_len, portable_map_entry *entry)
{
  size_t i = 0;
  while (i < len && name_char (line[i]))
    i++;
  if (i == 0 || i > PORTABLE_MAP_NAME_MAX || i >= len || line[i] != ' ')
    return false;
  *name = line;
  *name_len = i;
  size_t start = ++i;
  uint32_t period = 0;
  while (i < len && line[i] >= '0' && line[i] <= '9' && i - start < 6)
    period = period * 10 + (uint32_t) (line[i++] - '0');
  if (i == start || line[start] == '0' || i >= len || line[i] != ' ' || period < 2 || period > 86400)
    return false;
  i++;
  if (len - i != 64)
    return false;
  for (int b = 0; b < 32; b++)
    {
      int hi = hex_value (line[i + 2 * (size_t) b]), lo = hex_value (line[i + 2 * (size_t) b + 1]);
      if (hi < 0 || lo < 0)
        return false;
      entry->key[b] = (uint8_t) (hi << 4 | lo);
    }
  entry->period_s = period;
  return true;
}

static bool
same_name (const char *a, size_t a_len, const char *b, size_t b_len)
{
  if (a_len != b_len)
    return false;
  for (size_t i = 0; i < a_len; i++)
    if (lower (a[i]) != b[i])
      return false;
  return true;
}

portable_map_result
portable_map_lookup (const char *data, size_t data_len, const char *name, size_t name_len,
                     portable_map_entry *entry)
{
  const size_t header_len = sizeof PORTABLE_MAP_HEADER - 1;
  portable_map_entry scratch;
  bool found = false;
  unsigned lines = 0;

  if (data == NULL || name == NULL || data_len > PORTABLE_MAP_MAX_BYTES || data_len < header_len
      || memcmp (data, PORTABLE_MAP_HEADER, header_len) != 0)
    return PORTABLE_MAP_MALFORMED;
  if (name_len > 0 && name[name_len - 1] == '.')
    name_len--;
  /* Every line is checked, also after a match: a map is used whole or not at all. */
  for (size_t at = header_len; at < data_len;)
    {
      const char *nl = memchr (data + at, '\n', data_len - at);
      const char *entry_name = NULL;
      size_t entry_name_len = 0;
      if (nl == NULL || ++lines > PORTABLE_MAP_MAX_ENTRIES
          || !parse_line (data + at, (size_t) (nl - (data + at)), &entry_name, &entry_name_len, &scratch))
        {
          OPENSSL_cleanse (&scratch, sizeof scratch);
          if (found)
            OPENSSL_cleanse (entry, sizeof *entry);
          return PORTABLE_MAP_MALFORMED;
        }
      if (!found && same_name (name, name_len, entry_name, entry_name_len))
        {
          *entry = scratch;
          found = true;
        }
      at = (size_t) (nl - data) + 1;
    }
  OPENSSL_cleanse (&scratch, sizeof scratch);
  return found ? PORTABLE_MAP_FOUND : PORTABLE_MAP_ABSENT;
}
