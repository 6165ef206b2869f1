Bupdated.projector.norm.biasJ`İ’å¯÷¸?¬:
‹5?š?m,ŠóLÊ¦¿`cÒ¨¥¯`¿snIŸ9úÀ¿€ôTõ•?Àfh³?AHW-µ?/Nœ9„F—¿ÀG(ğÅAŸ¿¬‰ g2¢¿ÑïÙ	¸¸¿