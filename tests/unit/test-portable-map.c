/* test-portable-map.c: the name map parser of libnss_settle
 * (lib/names/portable-map.c, schema/portable-names.md "The name map"):
 * a well-formed map answers for its names only; anything malformed makes
 * the whole map unusable, without reading past its end. */
#include <string.h>

#include <glib.h>

#include "settle-portable-map.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define GOOD PORTABLE_MAP_HEADER "printer.local 900 " KEY_HEX "\n" "nas.home.arpa 60 " KEY_HEX "\n"

static portable_map_result
lookup (const char *map, const char *name, portable_map_entry *entry)
{
  /* an exact-size copy, so that ASan sees any read past the end */
  gsize len = strlen (map);
  g_autofree char *copy = g_memdup2 (map, len ? len : 1);
  return portable_map_lookup (copy, len, name, strlen (name), entry);
}

static void
test_found (void)
{
  portable_map_entry e;
  g_assert_cmpint (lookup (GOOD, "printer.local", &e), ==, PORTABLE_MAP_FOUND);
  g_assert_cmpuint (e.period_s, ==, 900);
  for (int i = 0; i < 32; i++)
    g_assert_cmpuint (e.key[i], ==, i);
  g_assert_cmpint (lookup (GOOD, "PRINTER.Local.", &e), ==, PORTABLE_MAP_FOUND);
  g_assert_cmpint (lookup (GOOD, "nas.home.arpa", &e), ==, PORTABLE_MAP_FOUND);
  g_assert_cmpuint (e.period_s, ==, 60);
  g_assert_cmpint (lookup (GOOD, "printer.loca", &e), ==, PORTABLE_MAP_ABSENT);
  g_assert_cmpint (lookup (GOOD, "xprinter.local", &e), ==, PORTABLE_MAP_ABSENT);
  g_assert_cmpint (lookup (GOOD, "", &e), ==, PORTABLE_MAP_ABSENT);
  g_assert_cmpint (lookup (PORTABLE_MAP_HEADER, "printer.local", &e), ==, PORTABLE_MAP_ABSENT);
}

static void
test_malformed (void)
{
  static const char *const maps[] = {
    "",
    "settle-portable-hosts 2\n",
    "settle-portable-hosts 1",
    PORTABLE_MAP_HEADER "printer.local 900 " KEY_HEX,                 /* no final newline */
    PORTABLE_MAP_HEADER "printer.local 900 " KEY_HEX "0\n",           /* 65 hex digits */
    PORTABLE_MAP_HEADER "printer.local 900 " KEY_HEX "\nbad\n",       /* a bad line after the match */
    PORTABLE_MAP_HEADER "Printer.local 900 " KEY_HEX "\n",            /* uppercase name */
    PORTABLE_MAP_HEADER "printer.local 0900 " KEY_HEX "\n",           /* leading zero */
    PORTABLE_MAP_HEADER "printer.local 1 " KEY_HEX "\n",              /* period too short */
    PORTABLE_MAP_HEADER "printer.local 86401 " KEY_HEX "\n",          /* period too long */
    PORTABLE_MAP_HEADER "printer.local 9999999999 " KEY_HEX "\n",     /* overflow */
    PORTABLE_MAP_HEADER "printer.local  900 " KEY_HEX "\n",           /* two spaces */
    PORTABLE_MAP_HEADER "printer.local 900 " "000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f\n",
    PORTABLE_MAP_HEADER " 900 " KEY_HEX "\n",                          /* no name */
    PORTABLE_MAP_HEADER "printer.local\t900 " KEY_HEX "\n",
    PORTABLE_MAP_HEADER "printer.local 900 " KEY_HEX "\r\n",
    PORTABLE_MAP_HEADER "\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (maps); i++)
    {
      portable_map_entry e;
      g_test_message ("map %" G_GSIZE_FORMAT, i);
      g_assert_cmpint (lookup (maps[i], "printer.local", &e), ==, PORTABLE_MAP_MALFORMED);
    }
  /* a NUL inside the data */
  portable_map_entry e;
  char with_nul[] = PORTABLE_MAP_HEADER "printer.local 900 " KEY_HEX "\n";
  with_nul[30] = '\0';
  g_assert_cmpint (portable_map_lookup (with_nul, sizeof with_nul - 1, "printer.local", 13, &e), ==,
                   PORTABLE_MAP_MALFORMED);
}

static void
test_bounds (void)
{
  portable_map_entry e;
  g_autoptr (GString) map = g_string_new (PORTABLE_MAP_HEADER);
  for (int i = 0; i < PORTABLE_MAP_MAX_ENTRIES; i++)
    g_string_append_printf (map, "d%d.local 900 " KEY_HEX "\n", i);
  g_assert_cmpint (lookup (map->str, "d255.local", &e), ==, PORTABLE_MAP_FOUND);
  g_string_append (map, "one-more.local 900 " KEY_HEX "\n");
  g_assert_cmpint (lookup (map->str, "d0.local", &e), ==, PORTABLE_MAP_MALFORMED);
  /* a 254-character name */
  g_autofree char *long_name = g_strnfill (254, 'a');
  g_autofree char *long_map = g_strdup_printf (PORTABLE_MAP_HEADER "%s 900 " KEY_HEX "\n", long_name);
  g_assert_cmpint (lookup (long_map, long_name, &e), ==, PORTABLE_MAP_MALFORMED);
  /* over the size bound */
  g_assert_cmpint (portable_map_lookup (map->str, PORTABLE_MAP_MAX_BYTES + 1, "d0.local", 8, &e), ==,
                   PORTABLE_MAP_MALFORMED);
  g_assert_cmpint (portable_map_lookup (NULL, 0, "d0.local", 8, &e), ==, PORTABLE_MAP_MALFORMED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/portable-map/found", test_found);
  g_test_add_func ("/portable-map/malformed", test_malformed);
  g_test_add_func ("/portable-map/bounds", test_bounds);
  return g_test_run ();
}
