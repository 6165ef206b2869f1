B!grad.fusion.layers.0.norm2.weightJ€²Ö%?`•Y¿b²m¿C¢†$İƒ?Ö-wš‹s¿¡ÁEPã˜F?Æ`@¨q;x?/l‡#Á~?M/=•¿Û3ØÆR†‡¿7+CW¥}?¢F†QàP?Æ€Î³Ü3‰¿Dú
ŸYLŒ¿—…€W4ğ#¿¤Á–â¬r„?Î=Ouû€?