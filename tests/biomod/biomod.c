// SPDX-License-Identifier: GPL-2.0
/*
 * biomod - test-only module: bad bios, as only a kernel caller can send.
 *
 * The block layer refuses misaligned and sub-block direct I/O from user
 * space (EINVAL) before it reaches a driver, so tests/22-lifecycle.sh
 * cannot show from user space that mzswap refuses them itself
 * (invalid_io). Loading this module opens the block device "dev" read-only
 * and submits one read that a kernel caller could send, named by "read",
 * and waits for it:
 *
 *   misaligned   one page at sector 1
 *   short        512 bytes at sector 0
 *   split        one page's worth at sector 8, as two half pages
 *   driver_op    REQ_OP_DRV_IN, no data
 *
 * Its result (0 or a negative errno) is the read-only parameter "err".
 * Loading returns 0 unless the device cannot be opened, memory is short
 * or "read" names none of these. Reads only: nothing on the device
 * changes.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/string.h>

static char *dev = "/dev/mzswap0";
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "block device to send the bad read to");

static char *read = "misaligned";
module_param(read, charp, 0444);
MODULE_PARM_DESC(read, "misaligned, short, split or driver_op");

/* The result: 0 or a negative errno. */
static int err;
module_param(err, int, 0444);
MODULE_PARM_DESC(err, "the read's result: 0 or a negative errno");

/*
 * biomod_read - submit a read of @nr segments of @len bytes at @offset in
 * @pages at @sector (REQ_OP_DRV_IN with no data when @nr is 0) and wait.
 */
static int biomod_read(struct block_device *bdev, sector_t sector,
		       struct page **pages, int nr, unsigned int len,
		       unsigned int offset)
{
	struct bio *bio;
	int i, ret;

	bio = bio_alloc(bdev, nr ?: 1, nr ? REQ_OP_READ : REQ_OP_DRV_IN,
			GFP_KERNEL);
	bio->bi_iter.bi_sector = sector;
	for (i = 0; i < nr; i++) {
		if (bio_add_page(bio, pages[i], len, offset) != len) {
			bio_put(bio);
			return -E2BIG;
		}
	}
	ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

static int __init biomod_init(void)
{
	struct block_device *bdev;
	struct page *pages[2];

	if (strcmp(read, "misaligned") && strcmp(read, "short") &&
	    strcmp(read, "split") && strcmp(read, "driver_op"))
		return -EINVAL;
	pages[0] = alloc_page(GFP_KERNEL);
	pages[1] = alloc_page(GFP_KERNEL);
	if (!pages[0] || !pages[1]) {
		if (pages[0])
			__free_page(pages[0]);
		if (pages[1])
			__free_page(pages[1]);
		return -ENOMEM;
	}
	bdev = blkdev_get_by_path(dev, FMODE_READ, NULL);
	if (IS_ERR(bdev)) {
		__free_page(pages[0]);
		__free_page(pages[1]);
		return PTR_ERR(bdev);
	}
	if (!strcmp(read, "misaligned"))
		err = biomod_read(bdev, 1, pages, 1, PAGE_SIZE, 0);
	else if (!strcmp(read, "short"))
		err = biomod_read(bdev, 0, pages, 1, 512, 0);
	else if (!strcmp(read, "split"))
		err = biomod_read(bdev, 8, pages, 2, PAGE_SIZE / 2,
				  PAGE_SIZE / 2);
	else
		err = biomod_read(bdev, 0, NULL, 0, 0, 0);
	blkdev_put(bdev, FMODE_READ);
	__free_page(pages[0]);
	__free_page(pages[1]);
	pr_info("%s: read %s: %d\n", dev, read, err);
	return 0;
}

static void __exit biomod_exit(void)
{
}

module_init(biomod_init);
module_exit(biomod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mzswap test: bad bios from a kernel caller");
