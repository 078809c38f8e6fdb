/*
 * sax_pass: the floor for any libxml2-based feed parser. Reads each file
 * named on the command line and runs it through libxml2's SAX2 push
 * parser with callbacks that only count (elements, text bytes, and the
 * <item>/<entry> elements), the same options feedd's parser uses (no
 * network, no DTD loading, no entity substitution). Prints
 * "files=N entries=M elements=E text_bytes=T" at the end.
 *
 * Built by bench/peers.sh with the system compiler:
 *   cc -O2 bench/peers/sax_pass.c $(pkg-config --cflags --libs libxml-2.0)
 * It is a measuring tool, not part of feedd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>

struct counts {
	unsigned long elements, entries, text;
};

static void
on_start(void *ud, const xmlChar *local, const xmlChar *prefix,
	const xmlChar *uri, int nns, const xmlChar **ns, int nattr,
	int ndef, const xmlChar **attrs)
{
	struct counts *c = ud;

	(void)prefix; (void)uri; (void)nns; (void)ns; (void)nattr;
	(void)ndef; (void)attrs;
	c->elements++;
	if (strcmp((const char *)local, "item") == 0 ||
	    strcmp((const char *)local, "entry") == 0)
		c->entries++;
}

static void
on_text(void *ud, const xmlChar *s, int len)
{
	struct counts *c = ud;

	(void)s;
	c->text += (unsigned long)len;
}

static void
on_error(void *ud, const char *msg, ...)
{
	(void)ud; (void)msg;
}

static int
pass(const char *path, struct counts *c)
{
	xmlSAXHandler sax;
	xmlParserCtxtPtr ctxt = NULL;
	struct stat sb;
	char *buf = NULL;
	ssize_t got = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &sb) < 0)
		goto out;
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf)
		goto out;
	while (got < sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)(sb.st_size - got));

		if (n <= 0)
			goto out;
		got += n;
	}
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = on_start;
	sax.characters = on_text;
	sax.cdataBlock = on_text;
	sax.error = on_error;
	sax.warning = on_error;
	ctxt = xmlCreatePushParserCtxt(&sax, c, NULL, 0, path);
	if (!ctxt)
		goto out;
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING);
	xmlParseChunk(ctxt, buf, (int)got, 1);
	rc = 0;
out:
	if (ctxt)
		xmlFreeParserCtxt(ctxt);
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct counts c = { 0, 0, 0 };
	int bad = 0;

	xmlInitParser();
	for (int i = 1; i < argc; i++) {
		if (pass(argv[i], &c) < 0) {
			fprintf(stderr, "sax_pass: %s: %s\n", argv[i], strerror(errno));
			bad = 1;
		}
	}
	printf("files=%d entries=%lu elements=%lu text_bytes=%lu\n", argc - 1,
		c.entries, c.elements, c.text);
	xmlCleanupParser();
	return bad;
}
