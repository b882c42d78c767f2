/* CSV cells: RFC 4180 quoting only where needed (our identifiers never
 * need it; free text such as a command line might). */
#include <math.h>
#include <string.h>

#include "lockbench.h"

void lb_csv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}
