#include "compat.h"

#include <string.h>

#include "html.h"
#include "strbuf.h"
#include "tap.h"

static const char *
e(const char *s)
{
	static struct strbuf sb = STRBUF_INIT;

	strbuf_reset(&sb);
	html_esc(&sb, s);
	return sb.buf;
}

static void
t_markup(void)
{
	check_str(e("plain text, caf\xc3\xa9"), "plain text, caf\xc3\xa9");
	check_str(e("<script>alert(1)</script>"),
	    "&lt;script&gt;alert(1)&lt;/script&gt;");
	check_str(e("a & b \"q\" 'a'"), "a &amp; b &quot;q&quot; &#39;a&#39;");
	check_str(e("&amp;"), "&amp;amp;");
	check_str(e(""), "");
	check_str(e(NULL), "");
}

static void
t_controls(void)
{
	struct strbuf sb = STRBUF_INIT;

	check_str(e("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
	check_str(e("bell\a esc\x1b del\x7f"),
	    "bell\xef\xbf\xbd esc\xef\xbf\xbd del\xef\xbf\xbd");
	html_escn(&sb, "a\0<b", 4);
	check_int(sb.len, ==, 9);
	check_str(sb.buf, "a\xef\xbf\xbd&lt;b");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "kept:");
	html_escn(&sb, "<x>", 2);
	check_str(sb.buf, "kept:&lt;x");
	strbuf_release(&sb);
}

int
main(void)
{
	TEST(t_markup(), "markup characters become references");
	TEST(t_controls(), "controls and NUL become U+FFFD, appended");
	return test_done();
}
