// SPDX-License-Identifier: GPL-2.0-only
/* nop: a static binary that does nothing; the VM tests protect a copy of it as an "exec" resource.
 */
int main(void)
{
	return 0;
}
